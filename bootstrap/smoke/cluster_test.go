//go:build linux

package smoke

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/bootstrap/doctor"
	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/generator/s3"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/testtree"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// applyTree renders cfg and applies the given component overlays of its
// first environment, as Argo CD would sync them.
func applyTree(t *testing.T, restCfg *rest.Config, cfg config.Platform, components ...string) {
	t.Helper()
	out := testtree.Write(t, cfg)
	a, err := kube.NewApplier(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range components {
		built := testtree.Build(t, out, generator.OverlaysDir, cfg.Spec.Environments[0].Name, c)
		if _, err := a.ApplyStaged(context.Background(), built, kube.Options{Force: true}, 4); err != nil {
			t.Fatalf("apply %s: %v", c, err)
		}
		if c != "spark-crds" {
			continue
		}
		// The CRD is Established; wait until its resource is served too
		// (measured: up to several seconds later on this busy machine).
		dyn := dynamic.NewForConfigOrDie(restCfg)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			_, err := dyn.Resource(SparkApplications).List(context.Background(), metav1.ListOptions{})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sparkapplications not served: %v", err)
			}
		}
	}
}

// operator plays, for one SparkApplication, what the Spark Operator,
// spark-submit, Spark's driver and kubelet would do: it writes the
// application's status through the status subresource and creates the
// driver and executor pods with the labels they would carry, with pod
// statuses written through the pods' status subresource. The API server
// validates every write (the CRD's schema, Pod Security of the job
// namespace, pod status rules).
type operator struct {
	t     *testing.T
	cs    kubernetes.Interface
	dyn   dynamic.Interface
	ns    string
	name  string
	appID string
	image string
	// node is the pod's node (empty: none, as no scheduler runs).
	node string
	app  *unstructured.Unstructured
}

func (o *operator) ctx() context.Context { return context.Background() }

// waitCreated waits for gen smoke's SparkApplication.
func (o *operator) waitCreated() {
	o.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		app, err := o.dyn.Resource(SparkApplications).Namespace(o.ns).Get(o.ctx(), o.name, metav1.GetOptions{})
		if err == nil {
			o.app = app
			return
		}
		if !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			o.t.Fatalf("SparkApplication %s/%s: %v", o.ns, o.name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// status merges s into the application's status.
func (o *operator) status(s map[string]any) {
	o.t.Helper()
	patch, err := json.Marshal(map[string]any{"status": s})
	if err != nil {
		o.t.Fatal(err)
	}
	if _, err := o.dyn.Resource(SparkApplications).Namespace(o.ns).Patch(o.ctx(), o.name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		o.t.Fatalf("patch status: %v", err)
	}
}

func (o *operator) state(state, message string) {
	o.status(map[string]any{"applicationState": map[string]any{"state": state, "errorMessage": message}})
}

// submitted is what the operator writes once spark-submit returned.
func (o *operator) submitted() {
	o.status(map[string]any{
		"submissionID":              "5c2f3a1e-7d4b-4c7e-9a51-0b1f6a7c8d9e",
		"lastSubmissionAttemptTime": time.Now().UTC().Format(time.RFC3339),
		"submissionAttempts":        1,
		"executionAttempts":         1,
		"driverInfo":                map[string]any{"podName": o.name + "-driver"},
		"applicationState":          map[string]any{"state": StateSubmitted},
	})
}

// pod creates a driver or executor pod as spark-submit and the driver do:
// the labels of the application's spec for its role plus the operator's and
// Spark's, and the restricted security context of the rendered example.
func (o *operator) pod(role, name string) {
	o.t.Helper()
	labels, _, _ := unstructured.NestedStringMap(o.app.Object, "spec", role, "labels")
	labels = maps.Clone(labels)
	maps.Copy(labels, map[string]string{LabelAppName: o.name, LabelRole: role, LabelAppID: o.appID, "sparkoperator.k8s.io/launched-by-spark-operator": "true"})
	container := "spark-kubernetes-driver"
	if role == "executor" {
		container = "spark-kubernetes-executor"
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.ns, Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:        o.node,
			RestartPolicy:   corev1.RestartPolicyNever,
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](185), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{
				Name: container, Image: o.image, ImagePullPolicy: corev1.PullIfNotPresent,
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			}},
		},
	}
	if _, err := o.cs.CoreV1().Pods(o.ns).Create(o.ctx(), pod, metav1.CreateOptions{}); err != nil {
		o.t.Fatalf("create pod %s: %v", name, err)
	}
}

// podStatus writes a pod's status: phase, one container state, conditions.
func (o *operator) podStatus(name string, phase corev1.PodPhase, state corev1.ContainerState, conditions ...corev1.PodCondition) {
	o.t.Helper()
	pod, err := o.cs.CoreV1().Pods(o.ns).Get(o.ctx(), name, metav1.GetOptions{})
	if err != nil {
		o.t.Fatal(err)
	}
	pod.Status.Phase = phase
	pod.Status.Conditions = conditions
	c := pod.Spec.Containers[0]
	pod.Status.ContainerStatuses = nil
	if phase != corev1.PodPending || state.Waiting != nil {
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: c.Name, Image: c.Image, State: state, Ready: state.Running != nil,
			Started: ptr.To(state.Running != nil),
		}}
		if state.Running != nil || state.Terminated != nil {
			pod.Status.ContainerStatuses[0].ImageID = "docker.io/library/spark@sha256:" + strings.Repeat("ab", 32)
		}
	}
	if _, err := o.cs.CoreV1().Pods(o.ns).UpdateStatus(o.ctx(), pod, metav1.UpdateOptions{}); err != nil {
		o.t.Fatalf("pod %s status: %v", name, err)
	}
}

func running() corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}
}

func terminated(code int32, reason, message string) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, Message: message,
		StartedAt: metav1.NewTime(time.Now().Add(-10 * time.Second)), FinishedAt: metav1.Now(),
	}}
}

// driverRunning: the driver pod runs and the operator has seen it.
func (o *operator) driverRunning() {
	o.submitted()
	o.pod("driver", o.name+"-driver")
	o.podStatus(o.name+"-driver", corev1.PodRunning, running())
	o.status(map[string]any{"sparkApplicationId": o.appID, "applicationState": map[string]any{"state": StateRunning}})
}

// executorName is how Spark names executor pods: <prefix>-exec-<n>.
func (o *operator) executorName() string { return o.name + "-8f3d2c9a1b7e4d60-exec-1" }

func (o *operator) executorsRunning() {
	o.pod("executor", o.executorName())
	o.podStatus(o.executorName(), corev1.PodRunning, running())
	o.status(map[string]any{"executorState": map[string]any{o.executorName(): "RUNNING"}})
}

func (o *operator) completed() {
	o.podStatus(o.executorName(), corev1.PodSucceeded, terminated(0, "Completed", ""))
	o.podStatus(o.name+"-driver", corev1.PodSucceeded, terminated(0, "Completed", ""))
	o.status(map[string]any{
		"executorState":    map[string]any{o.executorName(): "COMPLETED"},
		"terminationTime":  time.Now().UTC().Format(time.RFC3339),
		"applicationState": map[string]any{"state": StateCompleted},
	})
}

// historyApps is what the test History Server lists.
type historyApps struct {
	mu   sync.Mutex
	apps []map[string]any
}

func (h *historyApps) add(a map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.apps = append(h.apps, a)
}

func (h *historyApps) list() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any{}, h.apps...)
}

// TestSmokeOnARealAPIServer runs gen smoke's whole flow against a real API
// server with the rendered namespaces, Spark Operator CRDs and job
// namespace applied, a real MinIO for the event log and an HTTP test server
// for the History Server's REST API, and plays the operator's and kubelet's
// part for each path: success, and each state that does not come.
func TestSmokeOnARealAPIServer(t *testing.T) {
	cfg := upstreamtest.Config(t)
	cfg.Complete()
	store := startMinIO(t, cfg)
	cluster := testcluster.Start(t)
	restCfg := cluster.RestConfig()
	applyTree(t, restCfg, cfg, "namespaces", "spark-crds", "spark-jobs")
	cs := kubernetes.NewForConfigOrDie(restCfg)
	dyn := dynamic.NewForConfigOrDie(restCfg)
	ns := cfg.Spec.SparkOperator.JobNamespaces[0]
	if _, err := cs.CoreV1().Secrets(ns).Create(context.Background(), credentialsSecret(cfg, ns, store.user, store.password), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sparkImage, err := image.Reference(cfg)
	if err != nil {
		t.Fatal(err)
	}
	history := &historyApps{apps: []map[string]any{sparkApp("spark-"+randomHex(t, 16), "Spark Pi", true)}}
	_, historyEP := historyServer(t, history.list)
	endpoints := store.endpoints()
	maps.Copy(endpoints, historyEP)

	// writeLog writes the event log as Spark 4 does by default
	// (spark.eventLog.rolling.enabled is true since Spark 4.0): a folder
	// eventlog_v2_<id>/ with events_<n>_<id>[.<codec>] and
	// appstatus_<id>.inprogress while running, the latter renamed (copied,
	// then deleted) to appstatus_<id> when the driver stops.
	writeLog := func(o *operator) {
		dir := "eventlog_v2_" + o.appID + "/"
		store.put(t, dir+"appstatus_"+o.appID+".inprogress", "")
		store.put(t, dir+"events_1_"+o.appID+".zstd", eventLogLine)
		store.put(t, dir+"appstatus_"+o.appID, "")
		if err := store.client.RemoveObject(context.Background(), store.bucket, store.prefix+dir+"appstatus_"+o.appID+".inprogress", minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// writeSingleLog writes it as Spark does with rolling disabled (and
	// Spark 3 by default): <id>.inprogress while running, renamed to <id>.
	writeSingleLog := func(o *operator) {
		store.put(t, o.appID+".inprogress", eventLogLine)
		store.put(t, o.appID, eventLogLine+`{"Event":"SparkListenerApplicationEnd","Timestamp":1795975260000}`+"\n")
		if err := store.client.RemoveObject(context.Background(), store.bucket, store.prefix+o.appID+".inprogress", minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// logIn is where each case's log is expected (by its name).
	logIn := func(o *operator, single bool) string {
		if single {
			return "s3a://" + store.bucket + "/" + store.prefix + o.appID
		}
		return "s3a://" + store.bucket + "/" + store.prefix + "eventlog_v2_" + o.appID + "/"
	}
	listed := func(o *operator) { history.add(sparkApp(o.appID, "Spark Pi", true)) }

	cases := []struct {
		name    string
		play    func(o *operator)
		timeout time.Duration
		// unschedulable is Options.Unschedulable (0: the default).
		unschedulable time.Duration
		// interruptAfter cancels Run's context then (Ctrl-C in gen smoke).
		interruptAfter time.Duration
		clean          bool
		// failed is the step that fails ("" for none); says are what the
		// failed step (problem, cause, fix) must say.
		failed string
		says   []string
		// logStays: the event log is in the store afterwards.
		logStays bool
		// single: the log is a single file, not a rolling log folder.
		single bool
	}{
		{
			name: "success",
			play: func(o *operator) {
				o.driverRunning()
				o.executorsRunning()
				writeLog(o)
				listed(o)
				o.completed()
			},
			logStays: true,
		},
		{
			name: "success with --clean, single-file log",
			play: func(o *operator) {
				o.driverRunning()
				o.executorsRunning()
				writeSingleLog(o)
				listed(o)
				o.completed()
			},
			clean:  true,
			single: true,
		},
		{
			name: "image missing on the node",
			play: func(o *operator) {
				o.submitted()
				o.pod("driver", o.name+"-driver")
				o.podStatus(o.name+"-driver", corev1.PodPending, corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
					Reason: "ImagePullBackOff", Message: `Back-off pulling image "` + sparkImage + `"`}})
			},
			failed: StepDriverRunning,
			says:   []string{"ImagePullBackOff", sparkImage, "make image"},
		},
		{
			name: "submission failed",
			play: func(o *operator) {
				o.status(map[string]any{"submissionAttempts": 1, "driverInfo": map[string]any{"podName": o.name + "-driver"},
					"applicationState": map[string]any{"state": StateSubmissionFailed, "errorMessage": quotaError(o)}})
			},
			failed: StepSubmitted,
			says:   []string{"submission failed", "exceeded quota", "spark-operator-controller"},
		},
		{
			// With restartPolicy Never the operator moves SUBMISSION_FAILED
			// on to FAILED, keeping the message; a poll may see only that.
			name: "submission failed, seen as FAILED",
			play: func(o *operator) {
				o.status(map[string]any{"submissionAttempts": 1, "driverInfo": map[string]any{"podName": o.name + "-driver"},
					"applicationState": map[string]any{"state": StateFailed, "errorMessage": quotaError(o)}})
			},
			failed: StepSubmitted,
			says:   []string{"submission failed", "exceeded quota"},
		},
		{
			name: "driver failed",
			play: func(o *operator) {
				o.driverRunning()
				o.podStatus(o.name+"-driver", corev1.PodFailed, terminated(1, "Error", `Exception in thread "main" java.lang.ClassNotFoundException: org.apache.spark.examples.SparkPi`))
				o.state(StateFailed, "driver container failed with ExitCode: 1, Reason: Error")
			},
			failed: StepExecutors,
			says:   []string{"driver container failed with ExitCode: 1", "exited with code 1", "ClassNotFoundException", "kubectl -n spark-jobs logs"},
		},
		{
			// The driver failed and its pod is gone before a poll saw it:
			// the operator had counted an execution, so this is not a
			// failed submission.
			name: "driver failed, pod never seen",
			play: func(o *operator) {
				o.submitted()
				o.state(StateFailed, "driver pod not found")
			},
			failed: StepDriverRunning,
			says:   []string{"driver pod not found", "the driver pod is gone"},
		},
		{
			name: "executors never scheduled",
			play: func(o *operator) {
				o.driverRunning()
				o.pod("executor", o.executorName())
				o.podStatus(o.executorName(), corev1.PodPending, corev1.ContainerState{}, corev1.PodCondition{
					Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
					Message: "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
				})
				o.status(map[string]any{"executorState": map[string]any{o.executorName(): "PENDING"}})
			},
			// Long enough for the play above on a loaded machine; the
			// step fails when it runs out.
			timeout: 10 * time.Second,
			failed:  StepExecutors,
			says:    []string{"Insufficient memory", "Rancher Desktop", "Virtual Machine"},
		},
		{
			// The driver cannot be placed either: reported once it has
			// been unschedulable for Options.Unschedulable, long before
			// the timeout.
			name: "driver never scheduled",
			play: func(o *operator) {
				o.submitted()
				o.pod("driver", o.name+"-driver")
				o.podStatus(o.name+"-driver", corev1.PodPending, corev1.ContainerState{}, corev1.PodCondition{
					Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
					Message: "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
				})
			},
			unschedulable: time.Second,
			failed:        StepDriverRunning,
			says:          []string{"Insufficient cpu", "Rancher Desktop", "Virtual Machine"},
		},
		{
			name: "no event log",
			play: func(o *operator) {
				o.driverRunning()
				o.executorsRunning()
				listed(o)
				o.completed()
			},
			failed: StepEventLog,
			says:   []string{"no event log of", cfg.Spec.HistoryServer.LogDirectory, "spark.eventLog.dir"},
		},
		{
			name: "History Server not listing",
			play: func(o *operator) {
				o.driverRunning()
				o.executorsRunning()
				writeLog(o)
				o.completed()
			},
			failed:   StepHistory,
			says:     []string{"applications, not spark-", "FsHistoryProvider"},
			logStays: true,
		},
		{
			// Ctrl-C: the run stops, names the state it waited for, and
			// still deletes what it created.
			name:           "interrupted",
			play:           func(o *operator) { o.submitted() },
			interruptAfter: 2 * time.Second,
			failed:         StepDriverRunning,
			says:           []string{"interrupted while waiting for driver running", "Ctrl-C"},
		},
		{
			name:    "operator not running",
			play:    func(o *operator) {},
			timeout: 3 * time.Second,
			failed:  StepSubmitted,
			says:    []string{"no state", "did not pick it up", "spark-operator-controller"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &operator{t: t, cs: cs, dyn: dyn, ns: ns, name: UniqueName(), appID: "spark-" + randomHex(t, 16), image: sparkImage}
			timeout := c.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			type result struct {
				r   Report
				err error
			}
			done := make(chan result, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.interruptAfter > 0 {
				time.AfterFunc(c.interruptAfter, cancel)
			}
			go func() {
				r, err := Run(ctx, restCfg, Options{
					Config: cfg, Environment: cfg.Spec.Environments[0].Name, Name: o.name, Endpoints: endpoints,
					Timeout: timeout, Clean: c.clean, Poll: 100 * time.Millisecond,
					EventLogWait: time.Second, HistoryWait: time.Second, Unschedulable: c.unschedulable,
				})
				done <- result{r, err}
			}()
			o.waitCreated()
			c.play(o)
			var res result
			began := time.Now()
			select {
			case res = <-done:
			case <-time.After(timeout + time.Minute):
				t.Fatal("gen smoke did not return")
			}
			r := res.r
			if res.err != nil {
				t.Fatal(res.err)
			}
			if c.unschedulable > 0 && time.Since(began) > timeout/2 {
				t.Errorf("an unschedulable pod was reported after %s, not after about %s", time.Since(began), c.unschedulable)
			}
			report, _ := json.MarshalIndent(r, "", "  ")
			t.Logf("report:\n%s", report)

			failed := r.Failed()
			switch {
			case c.failed == "" && (failed != nil || !r.Passed):
				t.Fatalf("failed at %+v", failed)
			case c.failed != "" && (failed == nil || r.Passed):
				t.Fatalf("passed; want a failure at %s", c.failed)
			case c.failed != "" && (failed.Name != c.failed || failed.Check != c.failed):
				t.Fatalf("failed at %q (%q), want %q", failed.Name, failed.Check, c.failed)
			}
			if failed != nil {
				text := failed.Problem + " | " + failed.Cause + " | " + failed.Fix
				for _, s := range c.says {
					if !strings.Contains(text, s) {
						t.Errorf("the failure does not say %q: %s", s, text)
					}
				}
				if failed.Cause == "" || failed.Fix == "" {
					t.Errorf("a failure without cause or fix: %+v", failed)
				}
			} else {
				var names []string
				for _, s := range r.Steps {
					names = append(names, s.Name)
				}
				want := "submitted,driver running,executors,completed,event log,History Server,cleanup"
				if c.clean {
					want += ",cleanup"
				}
				if got := strings.Join(names, ","); got != want {
					t.Errorf("steps %q, want %q", got, want)
				}
				if r.ApplicationID != o.appID || r.EventLog != logIn(o, c.single) {
					t.Errorf("application id %q, event log %q", r.ApplicationID, r.EventLog)
				}
			}
			if len(r.URLs) != 3 {
				t.Errorf("URLs %v", r.URLs)
			}
			// Cleanup: always the last step, and it passed.
			if last := r.Steps[len(r.Steps)-1]; last.Name != StepCleanup || last.Severity != doctor.OK {
				t.Errorf("last step %+v", last)
			}
			if _, err := dyn.Resource(SparkApplications).Namespace(ns).Get(context.Background(), o.name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("the SparkApplication is still there: %v", err)
			}
			pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: LabelAppName + "=" + o.name})
			if err != nil || len(pods.Items) != 0 {
				t.Errorf("pods left: %v %v", pods, err)
			}
			if got := store.exists(t, o.appID) || store.exists(t, "eventlog_v2_"+o.appID+"/events_1_"+o.appID+".zstd"); got != c.logStays {
				t.Errorf("event log in the store afterwards: %v, want %v", got, c.logStays)
			}
		})
	}
}

// quotaError is what the operator reports when spark-submit could not create
// the driver pod because of the namespace's quota.
func quotaError(o *operator) string {
	return "failed to run spark-submit: Exception in thread \"main\" io.fabric8.kubernetes.client.KubernetesClientException: pods \"" + o.name + "-driver\" is forbidden: exceeded quota: spark-jobs"
}

// TestPortForwardTargetsTheRenderedServices: the port-forward's choice of
// pod and port, for the object store's and the History Server's Services as
// rendered, with pods made from the rendered Deployments' templates (the
// API server admits them under the namespaces' Pod Security level). Only a
// pod that is Running and Ready is chosen. The SPDY stream itself needs a
// kubelet, which only a real cluster has.
func TestPortForwardTargetsTheRenderedServices(t *testing.T) {
	for _, store := range []string{config.ObjectStoreMinIO, config.ObjectStoreSeaweedFS} {
		t.Run(store, func(t *testing.T) {
			cfg := upstreamtest.Config(t)
			cfg.Spec.ObjectStore.Type = store
			cfg.Complete()
			testPortForwardTargets(t, cfg, store)
		})
	}
}

// testPortForwardTargets checks the Services of cfg, whose object store
// component (overlay folder) is store.
func testPortForwardTargets(t *testing.T, cfg config.Platform, store string) {
	cluster := testcluster.Start(t)
	restCfg := cluster.RestConfig()
	applyTree(t, restCfg, cfg, "namespaces", store, "spark-history")
	cs := kubernetes.NewForConfigOrDie(restCfg)
	ctx := context.Background()
	storeService, ok := serviceOf(s3.Endpoint(cfg))
	if !ok {
		t.Fatalf("%s is not an in-cluster Service", s3.Endpoint(cfg))
	}
	f := &PortForward{Config: restCfg, Client: cs}
	for _, s := range []Service{storeService, HistoryService} {
		t.Run(s.String(), func(t *testing.T) {
			svc, err := cs.CoreV1().Services(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			deployments, err := cs.AppsV1().Deployments(s.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var template *corev1.PodTemplateSpec
			for i, d := range deployments.Items {
				if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
					template = &deployments.Items[i].Spec.Template
				}
			}
			if template == nil {
				t.Fatalf("no Deployment's pods match the Service's selector %v", svc.Spec.Selector)
			}
			// The port the Service sends s.Port to, as the container declares it.
			var want int32
			for _, p := range svc.Spec.Ports {
				if int(p.Port) != s.Port {
					continue
				}
				for _, c := range template.Spec.Containers {
					for _, cp := range c.Ports {
						if cp.Name == p.TargetPort.StrVal || cp.ContainerPort == p.TargetPort.IntVal {
							want = cp.ContainerPort
						}
					}
				}
			}
			if want == 0 {
				t.Fatalf("the Service's port %d reaches no container port", s.Port)
			}

			if _, _, err := f.target(ctx, s); err == nil || !strings.Contains(err.Error(), "no ready pod") {
				t.Errorf("no pods: %v", err)
			}
			newPod := func(name string, ready bool) {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.Namespace, Labels: template.Labels}, Spec: template.Spec}
				created, err := cs.CoreV1().Pods(s.Namespace).Create(ctx, pod, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				status := corev1.ConditionFalse
				if ready {
					status = corev1.ConditionTrue
				}
				created.Status.Phase = corev1.PodRunning
				created.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
				if _, err := cs.CoreV1().Pods(s.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			newPod(s.Name+"-a-not-ready", false)
			if _, _, err := f.target(ctx, s); err == nil {
				t.Error("a pod that is not ready was chosen")
			}
			newPod(s.Name+"-b-ready", true)
			pod, port, err := f.target(ctx, s)
			if err != nil || pod != s.Name+"-b-ready" || port != int(want) {
				t.Errorf("target = %s, %d, %v; want %s-b-ready, %d", pod, port, err, s.Name, want)
			}
		})
	}
	if _, _, err := f.target(ctx, Service{Namespace: HistoryService.Namespace, Name: HistoryService.Name, Port: 1}); err == nil || !strings.Contains(err.Error(), "has no port 1") {
		t.Errorf("a port the Service lacks: %v", err)
	}
}
