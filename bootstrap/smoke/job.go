package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/generator/sparkoperator"
)

// SparkApplications is the Spark Operator's resource.
var SparkApplications = schema.GroupVersionResource{Group: "sparkoperator.k8s.io", Version: "v1beta2", Resource: "sparkapplications"}

// Labels gen smoke puts on the SparkApplication and, through its driver and
// executor specs, on its pods; the operator adds LabelAppName.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "gen-smoke"
	LabelInstance  = "app.kubernetes.io/instance"
	// LabelAppName and LabelRole are the labels the Spark Operator and Spark
	// put on the driver and executor pods (pkg/common/spark.go of the operator).
	LabelAppName = "sparkoperator.k8s.io/app-name"
	LabelRole    = "spark-role"
	// LabelAppID is Spark's label with the application id (spark-<hex>).
	LabelAppID = "spark-app-selector"
)

// Application states of the Spark Operator v1beta2 API.
const (
	StateSubmitted        = "SUBMITTED"
	StateRunning          = "RUNNING"
	StateCompleted        = "COMPLETED"
	StateFailed           = "FAILED"
	StateSubmissionFailed = "SUBMISSION_FAILED"
	StateSucceeding       = "SUCCEEDING"
	StateFailing          = "FAILING"
)

// Application is the SparkPi example of examples/ renamed to name, labelled
// as gen smoke's (metadata, driver and executors).
func Application(cfg config.Platform, name string) (*sparkoperator.SparkApplication, error) {
	app, err := sparkoperator.ExampleApplication(cfg)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{LabelManagedBy: ManagedBy, LabelInstance: name}
	app.Name = name
	app.Labels = maps.Clone(labels)
	app.Spec.Driver.Labels = merged(app.Spec.Driver.Labels, labels)
	app.Spec.Executor.Labels = merged(app.Spec.Executor.Labels, labels)
	return app, nil
}

func merged(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

// Job is one submitted SparkApplication and the pods the operator and Spark
// make for it.
type Job struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	Config  config.Platform
	App     *sparkoperator.SparkApplication
	// Poll is how often the application and its pods are read (default 1s).
	Poll time.Duration
	// Unschedulable: how long a pod may stay unschedulable for lack of CPU
	// or memory (default 2m).
	Unschedulable time.Duration

	created bool
	// What earlier polls saw, so a state that passed between two polls
	// still counts.
	submitted, driverSeen, driverRan, executorsSeen, submissionFailed bool
	submissionError                                                   string
	// unschedulable: since when each pod has been seen unschedulable for
	// lack of resources.
	unschedulable map[string]time.Time
}

// milestones are the states Follow waits for, in order.
var milestones = []string{StepSubmitted, StepDriverRunning, StepExecutors, StepCompleted}

// Follow creates the SparkApplication and follows it until it completes,
// fails, or ctx ends. It returns one step per milestone reached and, when
// one does not come, a failed step for it; and the Spark application id
// once known.
func (j *Job) Follow(ctx context.Context, p *progress) ([]Step, string) {
	start := time.Now()
	poll := j.Poll
	if poll <= 0 {
		poll = time.Second
	}
	var steps []Step
	add := func(s Step) {
		p.step(s)
		steps = append(steps, s)
	}
	if err := j.create(ctx); err != nil {
		add(j.createFailed(start, err))
		return steps, ""
	}
	reached := 0
	var last observation
	for {
		o, err := j.observe(ctx)
		if err == nil {
			last = o
			for reached < len(milestones) && j.reached(o, milestones[reached]) {
				add(ok(strings.TrimSpace(milestones[reached]+" "+j.describe(o, milestones[reached])), start))
				reached++
			}
			if reached == len(milestones) {
				return steps, o.appID
			}
			if f := j.failure(ctx, o, milestones[reached], start); f != nil {
				add(*f)
				return steps, o.appID
			}
		} else if !cluster.CutShort(ctx, err) {
			last.readErr = err
		}
		p.waiting(milestones[reached], start)
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				add(fail(milestones[reached], start, "interrupted while waiting for "+milestones[reached], "the run was stopped (Ctrl-C)", "gen smoke"))
				return steps, last.appID
			}
			add(j.stuck(last, milestones[reached], start))
			return steps, last.appID
		case <-time.After(poll):
		}
	}
}

func (j *Job) create(ctx context.Context) error {
	raw, err := json.Marshal(j.App)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return err
	}
	_, err = j.Dynamic.Resource(SparkApplications).Namespace(j.App.Namespace).Create(ctx, u, metav1.CreateOptions{FieldManager: ManagedBy})
	if err == nil {
		j.created = true
	}
	return err
}

func (j *Job) ref() string { return j.App.Namespace + "/" + j.App.Name }

func (j *Job) createFailed(start time.Time, err error) Step {
	msg := fmt.Sprintf("cannot create SparkApplication %s: %v", j.ref(), err)
	switch {
	case apierrors.IsNotFound(err) && strings.Contains(err.Error(), "namespaces"):
		return fail(StepSubmitted, start, msg, "the job namespace does not exist: Argo CD has not synced the platform",
			"gen status --wait, then gen smoke")
	case apierrors.IsNotFound(err), strings.Contains(err.Error(), "could not find the requested resource"):
		return fail(StepSubmitted, start, msg, "the Spark Operator CRDs are not installed: Argo CD has not synced spark-crds",
			"gen status --wait, then gen smoke")
	case strings.Contains(err.Error(), "failed calling webhook"):
		return fail(StepSubmitted, start, msg, "the Spark Operator webhook does not answer (not running, or its certificate not injected)",
			"gen doctor; kubectl -n spark-operator logs deploy/spark-operator-webhook")
	case apierrors.IsForbidden(err):
		return fail(StepSubmitted, start, msg, "your kubeconfig user may not create SparkApplications in "+j.App.Namespace+", or a quota refuses it",
			"kubectl -n "+j.App.Namespace+" auth can-i create sparkapplications.sparkoperator.k8s.io; kubectl -n "+j.App.Namespace+" describe quota")
	default:
		return fail(StepSubmitted, start, msg, "", "gen doctor")
	}
}

// observation is one read of the application and its pods.
type observation struct {
	state, errorMessage string
	appID               string
	executionAttempts   int64
	executorStates      map[string]string
	driverName          string
	driver              *corev1.Pod
	executors           []corev1.Pod
	readErr             error
}

func (j *Job) observe(ctx context.Context) (observation, error) {
	var o observation
	u, err := j.Dynamic.Resource(SparkApplications).Namespace(j.App.Namespace).Get(ctx, j.App.Name, metav1.GetOptions{})
	if err != nil {
		return o, err
	}
	str := func(fields ...string) string {
		s, _, _ := unstructured.NestedString(u.Object, fields...)
		return s
	}
	o.state = str("status", "applicationState", "state")
	o.errorMessage = str("status", "applicationState", "errorMessage")
	o.appID = str("status", "sparkApplicationId")
	o.driverName = str("status", "driverInfo", "podName")
	o.executorStates, _, _ = unstructured.NestedStringMap(u.Object, "status", "executorState")
	// The operator counts an execution attempt only once spark-submit
	// succeeded: a FAILED application without one never had a driver.
	o.executionAttempts, _, _ = unstructured.NestedInt64(u.Object, "status", "executionAttempts")
	if o.driverName == "" {
		o.driverName = j.App.Name + "-driver"
	}
	pods, err := j.Client.CoreV1().Pods(j.App.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelAppName + "=" + j.App.Name})
	if err != nil {
		return o, err
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		switch {
		case pod.Name == o.driverName || pod.Labels[LabelRole] == "driver":
			o.driver = pod
		case pod.Labels[LabelRole] == "executor":
			o.executors = append(o.executors, *pod)
		}
	}
	sort.Slice(o.executors, func(a, b int) bool { return o.executors[a].Name < o.executors[b].Name })
	if o.appID == "" && o.driver != nil {
		o.appID = o.driver.Labels[LabelAppID]
	}

	// Remember what passes between polls.
	if o.state == StateSubmissionFailed {
		j.submissionFailed, j.submissionError = true, o.errorMessage
	}
	if o.driver != nil {
		j.driverSeen = true
		if podRan(o.driver) {
			j.driverRan = true
		}
	}
	switch o.state {
	case StateRunning, StateSucceeding, StateCompleted, StateFailing:
		j.driverRan = true
	}
	switch o.state {
	case StateSubmitted, StateRunning, StateSucceeding, StateCompleted, StateFailing:
		j.submitted = true
	}
	if o.executionAttempts > 0 || j.driverSeen {
		j.submitted = true
	}
	for _, s := range o.executorStates {
		if s == "RUNNING" || s == "COMPLETED" {
			j.executorsSeen = true
		}
	}
	for i := range o.executors {
		if podRan(&o.executors[i]) {
			j.executorsSeen = true
		}
	}
	return o, nil
}

// podRan: the pod's main container started (it may have ended since).
func podRan(pod *corev1.Pod) bool {
	if pod.Status.Phase == corev1.PodRunning || pod.Status.Phase == corev1.PodSucceeded {
		return true
	}
	for _, c := range pod.Status.ContainerStatuses {
		if c.State.Running != nil || (c.State.Terminated != nil && !c.State.Terminated.StartedAt.IsZero()) {
			return true
		}
	}
	return false
}

func (j *Job) reached(o observation, milestone string) bool {
	switch milestone {
	case StepSubmitted:
		return j.submitted && !j.submissionFailed
	case StepDriverRunning:
		return j.driverRan
	case StepExecutors:
		return j.executorsSeen
	case StepCompleted:
		return o.state == StateCompleted
	}
	return false
}

func (j *Job) describe(o observation, milestone string) string {
	switch milestone {
	case StepSubmitted:
		return j.ref()
	case StepDriverRunning:
		return "(" + o.driverName + ")"
	case StepExecutors:
		n := len(o.executorStates)
		if len(o.executors) > n {
			n = len(o.executors)
		}
		return fmt.Sprintf("(%d)", n)
	}
	return ""
}

// failure is a terminal problem seen while waiting for milestone, or nil
// while the application may still get there.
func (j *Job) failure(ctx context.Context, o observation, milestone string, start time.Time) *Step {
	if j.submissionFailed || (o.state == StateFailed && !j.submitted) {
		msg := j.submissionError
		if msg == "" {
			msg = o.errorMessage
		}
		s := fail(milestone, start, "submission failed: "+oneLine(msg, 600),
			"the operator's spark-submit could not create the driver (its message says why: the webhook, RBAC or a quota in "+j.App.Namespace+", or a Spark setting)",
			"kubectl -n spark-operator logs deploy/spark-operator-controller; kubectl -n "+j.App.Namespace+" describe sparkapplication "+j.App.Name)
		return &s
	}
	pods := o.executors
	if o.driver != nil {
		pods = append([]corev1.Pod{*o.driver}, pods...)
	}
	for _, pod := range pods {
		if s := j.waitingFailure(pod, milestone, start); s != nil {
			return s
		}
	}
	if s := j.unschedulableTooLong(pods, milestone, start); s != nil {
		return s
	}
	if o.state == StateFailed || o.state == StateFailing {
		cause, fix := j.driverFailure(ctx, o)
		s := fail(milestone, start, "the application failed: "+oneLine(o.errorMessage, 600), cause, fix)
		return &s
	}
	return nil
}

// unschedulableTooLong: a pod that the scheduler has refused for lack of CPU
// or memory for longer than j.Unschedulable.
func (j *Job) unschedulableTooLong(pods []corev1.Pod, milestone string, start time.Time) *Step {
	grace := j.Unschedulable
	if grace <= 0 {
		grace = 2 * time.Minute
	}
	if j.unschedulable == nil {
		j.unschedulable = map[string]time.Time{}
	}
	for _, pod := range pods {
		if !insufficient(pod) {
			delete(j.unschedulable, pod.Name)
			continue
		}
		since, seen := j.unschedulable[pod.Name]
		if !seen {
			j.unschedulable[pod.Name] = time.Now()
			continue
		}
		if time.Since(since) >= grace {
			s := j.podStuck(pod, milestone, fmt.Sprintf("not reached after %s", time.Since(start).Round(time.Second)), start)
			return &s
		}
	}
	return nil
}

// insufficient: the scheduler refused the pod for lack of resources.
func insufficient(pod corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodPending {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && strings.Contains(c.Message, "Insufficient") {
			return true
		}
	}
	return false
}

// waitingFailure: a container that cannot start for a reason that waiting
// does not fix.
func (j *Job) waitingFailure(pod corev1.Pod, milestone string, start time.Time) *Step {
	for _, c := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
		w := c.State.Waiting
		if w == nil {
			continue
		}
		problem := fmt.Sprintf("pod %s: %s for %s", pod.Name, w.Reason, c.Image)
		if w.Message != "" {
			problem += ": " + oneLine(w.Message, 300)
		}
		var s Step
		switch w.Reason {
		case "ErrImageNeverPull", "ImagePullBackOff", "ErrImagePull", "InvalidImageName":
			sparkImage, _ := image.Reference(j.Config)
			if c.Image == sparkImage || strings.HasPrefix(c.Image, j.Config.Spec.Spark.Image+":") {
				s = fail(milestone, start, problem,
					"the Spark + S3A image is built on the laptop, not pulled from a registry, and it is not in Rancher Desktop's image store",
					"make image (builds image/Dockerfile where the cluster finds it), then gen smoke again")
			} else {
				s = fail(milestone, start, problem, "the image cannot be pulled: no network, a typo, or a registry mirror that lacks it",
					"kubectl -n "+pod.Namespace+" describe pod "+pod.Name)
			}
		case "CreateContainerConfigError":
			s = fail(milestone, start, problem,
				"a Secret or ConfigMap the pod reads is missing (the object store credentials "+j.Config.Spec.MinIO.CredentialsSecret+" in "+pod.Namespace+" are created by gen bootstrap)",
				"run gen bootstrap again: it recreates missing credential copies")
		default:
			continue
		}
		return &s
	}
	return nil
}

// driverFailure reads why the driver ended: its container's termination
// (reason, exit code, message) and the tail of its log.
func (j *Job) driverFailure(ctx context.Context, o observation) (cause, fix string) {
	fix = fmt.Sprintf("kubectl -n %s logs %s", j.App.Namespace, o.driverName)
	if o.driver == nil {
		return "the driver pod is gone (deleted, or evicted)", fix
	}
	var parts []string
	for _, c := range o.driver.Status.ContainerStatuses {
		if t := c.State.Terminated; t != nil {
			part := fmt.Sprintf("container %s exited with code %d", c.Name, t.ExitCode)
			if t.Reason != "" {
				part += " (" + t.Reason + ")"
			}
			if t.Message != "" {
				part += ": " + oneLine(t.Message, 600)
			}
			parts = append(parts, part)
		}
	}
	tail := int64(10)
	raw, err := j.Client.CoreV1().Pods(j.App.Namespace).GetLogs(o.driver.Name, &corev1.PodLogOptions{TailLines: &tail}).DoRaw(ctx)
	if err == nil && len(strings.TrimSpace(string(raw))) > 0 {
		parts = append(parts, "log tail:\n      "+strings.ReplaceAll(strings.TrimSpace(string(raw)), "\n", "\n      "))
	}
	if len(parts) == 0 {
		return "the driver failed; its status says no more", fix
	}
	return "the driver failed: " + strings.Join(parts, "; "), fix
}

// stuck is the failure of milestone when the time ran out waiting for it.
func (j *Job) stuck(o observation, milestone string, start time.Time) Step {
	after := fmt.Sprintf("not reached after %s", time.Since(start).Round(time.Second))
	state := o.state
	if state == "" {
		state = "no state"
	}
	if o.readErr != nil {
		return fail(milestone, start, fmt.Sprintf("%s; the last read failed: %v", after, o.readErr),
			"the API server stopped answering", "gen doctor")
	}
	switch milestone {
	case StepSubmitted:
		return fail(milestone, start, after+" (the SparkApplication has "+state+")",
			"the Spark Operator controller did not pick it up: it is not running, or does not watch "+j.App.Namespace+" (spec.sparkOperator.jobNamespaces)",
			"gen doctor; kubectl -n spark-operator logs deploy/spark-operator-controller")
	case StepDriverRunning:
		if o.driver == nil {
			return fail(milestone, start, after+": no driver pod "+o.driverName+" (application "+state+")",
				"spark-submit has not created the driver yet, or the pod was refused (quota, Pod Security)",
				"kubectl -n "+j.App.Namespace+" get events --sort-by=.lastTimestamp")
		}
		return j.podStuck(*o.driver, milestone, after, start)
	case StepExecutors:
		for _, pod := range o.executors {
			if pod.Status.Phase == corev1.PodPending {
				return j.podStuck(pod, milestone, after, start)
			}
		}
		return fail(milestone, start, after+": the driver started no executor pod",
			"the driver cannot create pods (its ServiceAccount's RBAC in "+j.App.Namespace+"), or it is still starting",
			fmt.Sprintf("kubectl -n %s logs %s", j.App.Namespace, o.driverName))
	default:
		return fail(milestone, start, after+" (application "+state+")",
			"the job is slower than --timeout on this node, or stuck",
			fmt.Sprintf("gen smoke --timeout 20m; kubectl -n %s logs %s", j.App.Namespace, o.driverName))
	}
}

// podStuck names why a pod has not started: unschedulable (the VM is too
// small), or its container's waiting reason.
func (j *Job) podStuck(pod corev1.Pod, milestone, after string, start time.Time) Step {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			problem := fmt.Sprintf("%s: pod %s is %s: %s", after, pod.Name, c.Reason, oneLine(c.Message, 300))
			if strings.Contains(c.Message, "Insufficient") {
				return fail(milestone, start, problem,
					"the node has no room for it: Rancher Desktop's VM is too small for the platform plus a Spark job (gen doctor's node capacity check compares)",
					"Rancher Desktop: Preferences > Virtual Machine, more CPUs or memory, Apply; or stop other workloads on the cluster")
			}
			return fail(milestone, start, problem, "the scheduler cannot place the pod", "kubectl -n "+pod.Namespace+" describe pod "+pod.Name)
		}
	}
	for _, c := range pod.Status.ContainerStatuses {
		if w := c.State.Waiting; w != nil && w.Reason != "" {
			return fail(milestone, start, fmt.Sprintf("%s: pod %s is waiting: %s %s", after, pod.Name, w.Reason, oneLine(w.Message, 300)),
				"the container has not started", "kubectl -n "+pod.Namespace+" describe pod "+pod.Name)
		}
	}
	return fail(milestone, start, fmt.Sprintf("%s: pod %s is %s", after, pod.Name, pod.Status.Phase),
		"the pod has not started (no node has taken it yet)", "kubectl -n "+pod.Namespace+" describe pod "+pod.Name)
}

// Delete removes the SparkApplication and every pod of it (the operator's
// and Spark's labels, and gen smoke's own), without waiting for them to go.
func (j *Job) Delete(ctx context.Context) Step {
	start := time.Now()
	ns := j.App.Namespace
	bg := metav1.DeletePropagationBackground
	var errs []string
	if err := j.Dynamic.Resource(SparkApplications).Namespace(ns).Delete(ctx, j.App.Name, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) && j.created {
		errs = append(errs, fmt.Sprintf("delete SparkApplication %s: %v", j.ref(), err))
	}
	for _, selector := range []string{
		LabelAppName + "=" + j.App.Name,
		LabelManagedBy + "=" + ManagedBy + "," + LabelInstance + "=" + j.App.Name,
	} {
		err := j.Client.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &bg}, metav1.ListOptions{LabelSelector: selector})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Sprintf("delete pods %s in %s: %v", selector, ns, err))
		}
	}
	if len(errs) > 0 {
		return fail(StepCleanup, start, strings.Join(errs, "; "), "", fmt.Sprintf("kubectl -n %s delete sparkapplication %s", ns, j.App.Name))
	}
	if !j.created {
		return ok(StepCleanup+" (no SparkApplication was created; pods of "+j.App.Name+" deleted)", start)
	}
	return ok(StepCleanup+" (SparkApplication "+j.ref()+" and its pods deleted)", start)
}

// oneLine shortens s to one line of at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
