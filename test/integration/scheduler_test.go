//go:build linux

package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/sparkoperator"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/testnode"
	"github.com/rdspark/gen/internal/testtree"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// schedulerTimeout bounds the wait for every pod; measured all-Ready is
// around BENCHMARKS.md's figure, the rest is margin for a loaded machine.
const schedulerTimeout = 3 * time.Minute

// TestSchedulerFitsThePlatform is issue 13's first item: the default
// config's platform pods and the example SparkApplication's driver and
// executor are scheduled by the real kube-scheduler on a node of the
// rancher-desktop environment's capacity, and come up Ready through the
// real controllers. On a smaller node, pods stay Pending and the test names
// them with the scheduler's reason.
func TestSchedulerFitsThePlatform(t *testing.T) {
	cfg := upstreamtest.Config(t)
	env, ok := environment(cfg, "rancher-desktop")
	if !ok {
		t.Fatal("the default config has no rancher-desktop environment")
	}
	objs, example := schedulerObjects(t, cfg, env.Name)

	t.Run("rancher-desktop capacity", func(t *testing.T) {
		cs, elapsed := runPlatform(t, env.Capacity, objs, example)
		waitSettled(t, cs, func(s podCensus) bool { return s.allUp() }, schedulerTimeout)
		took := elapsed()
		if t.Failed() {
			return
		}
		t.Logf("all %d pods scheduled and Ready (the Job's Succeeded) %s after the apply ended (node %s CPU, %s memory)",
			len(census(t, cs).pods), took.Round(100*time.Millisecond), env.Capacity.CPU, env.Capacity.Memory)
		if pending := testnode.PendingPods(context.Background(), cs); len(pending) > 0 {
			t.Errorf("pods left Pending:\n%s", strings.Join(pending, "\n"))
		}
		s := census(t, cs)
		for key, p := range s.pods {
			// Bound by the scheduler (the pods/binding call sets
			// PodScheduled), except k3s's system pods, which the kubelet
			// binds itself.
			if p.Namespace != "kube-system" && !slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
				return c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue
			}) {
				t.Errorf("pod %s on node %q without PodScheduled=True", key, p.Spec.NodeName)
			}
			if p.Spec.NodeName != testnode.DefaultNodeName {
				t.Errorf("pod %s on node %q, want %s", key, p.Spec.NodeName, testnode.DefaultNodeName)
			}
		}
		// MinIO's claim (class local-path, WaitForFirstConsumer) was
		// provisioned on the node the scheduler chose and bound by the PV
		// controller.
		claims, err := cs.CoreV1().PersistentVolumeClaims("").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(claims.Items) == 0 {
			t.Error("the platform has no PersistentVolumeClaim; MinIO's data claim was expected")
		}
		for _, c := range claims.Items {
			if c.Status.Phase != corev1.ClaimBound || c.Spec.VolumeName == "" {
				t.Errorf("claim %s/%s is %s, not bound to a volume", c.Namespace, c.Name, c.Status.Phase)
			}
		}
		for _, want := range example {
			p, ok := s.pods[want.Namespace+"/"+want.Name]
			if !ok || !testnode.PodReady(p) {
				t.Errorf("example pod %s/%s is not Ready", want.Namespace, want.Name)
			}
		}
	})

	// The negative control: the same tree and example on a node that is
	// too small. The test must see Pending pods and print the scheduler's
	// reason for each.
	t.Run("smaller node", func(t *testing.T) {
		small := config.Capacity{CPU: "1", Memory: "2Gi"}
		cs, _ := runPlatform(t, small, objs, example)
		// Settled: every pod, the example's included (created before this),
		// is up or judged unschedulable; if all fit, that is seen at once.
		waitSettled(t, cs, podCensus.settled, schedulerTimeout)
		pending := testnode.PendingPods(context.Background(), cs)
		if len(pending) == 0 {
			t.Fatalf("every pod fit on a node of %s CPU and %s memory; the scheduler check cannot fail", small.CPU, small.Memory)
		}
		t.Logf("Pending on a node of %s CPU and %s memory:\n%s", small.CPU, small.Memory, strings.Join(pending, "\n"))
		for _, p := range pending {
			if !strings.Contains(p, ": Unschedulable: ") || !strings.Contains(p, "Insufficient") {
				t.Errorf("pending pod without the scheduler's resource verdict: %s", p)
			}
		}
	})
}

func environment(cfg config.Platform, name string) (config.Environment, bool) {
	for _, e := range cfg.Spec.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return config.Environment{}, false
}

// schedulerObjects renders cfg and returns the objects of env's component
// overlays (namespaces, CRDs, Argo CD's install with gen's patches, MinIO
// and its bucket Job, the Spark Operator, the job namespaces, the History
// Server; not the apps and root Applications, which only Argo CD acts on)
// without the Spark Operator's webhook configurations, and the pods the
// operator would create for the first example SparkApplication. Argo CD's
// pods request nothing, but they must still be placeable on the one node
// (no required anti-affinity, no selector k3s does not satisfy); they cost
// the test about 6 s.
//
// The webhook configurations are left out because no webhook server runs
// here: with failurePolicy Fail, the API server would refuse the example's
// pods for want of the webhook's endpoints (test/sparkoperator runs the real
// webhook).
func schedulerObjects(t *testing.T, cfg config.Platform, env string) ([]*unstructured.Unstructured, []*corev1.Pod) {
	t.Helper()
	out := testtree.Write(t, cfg)
	components, err := generator.Components(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	for _, c := range components {
		built := testtree.Build(t, out, generator.OverlaysDir, env, c.Name)
		for _, o := range built {
			switch {
			case o.GetKind() == "MutatingWebhookConfiguration" || o.GetKind() == "ValidatingWebhookConfiguration":
			default:
				objs = append(objs, o)
			}
		}
	}
	for _, o := range readExamples(t, filepath.Join(out, generator.ExamplesDir)) {
		if o.GetKind() != "SparkApplication" {
			continue
		}
		var app sparkoperator.SparkApplication
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &app); err != nil {
			t.Fatalf("example %s: %v", o.GetName(), err)
		}
		return objs, sparkPodsOf(t, &app)
	}
	t.Fatal("the rendered examples hold no SparkApplication")
	return nil, nil
}

// sparkPodsOf builds the driver and executor pods of app as the operator
// (driver) and the driver (executors) would create them: the requests that
// generator's budget computes (SparkPodSpec.PodRequests), the memory limit
// equal to the request as Spark sets it, the app's labels, security contexts,
// env and ServiceAccount. Executors default to the driver's ServiceAccount
// (spark.kubernetes.authenticate.executor.serviceAccountName).
func sparkPodsOf(t *testing.T, app *sparkoperator.SparkApplication) []*corev1.Pod {
	t.Helper()
	pod := func(name, role string, s sparkoperator.SparkPodSpec) *corev1.Pod {
		cpu, memory, err := s.PodRequests()
		if err != nil {
			t.Fatalf("example %s %s: %v", app.Name, role, err)
		}
		labels := map[string]string{
			"spark-role":                    role,
			"sparkoperator.k8s.io/app-name": app.Name,
			"sparkoperator.k8s.io/launched-by-spark-operator": "true",
		}
		for k, v := range s.Labels {
			labels[k] = v
		}
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: app.Namespace, Labels: labels},
			Spec: corev1.PodSpec{
				RestartPolicy:      corev1.RestartPolicyNever,
				ServiceAccountName: app.Spec.Driver.ServiceAccount,
				SecurityContext:    s.PodSecurity,
				Containers: []corev1.Container{{
					Name:            "spark-kubernetes-" + role,
					Image:           app.Spec.Image,
					ImagePullPolicy: corev1.PullPolicy(app.Spec.ImagePullPolicy),
					Env:             s.Env,
					SecurityContext: s.SecurityContext,
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: memory},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: memory},
					},
				}},
			},
		}
	}
	pods := []*corev1.Pod{pod(app.Name+"-driver", "driver", app.Spec.Driver.SparkPodSpec)}
	for i := range ptr.Deref(app.Spec.Executor.Instances, 1) {
		pods = append(pods, pod(fmt.Sprintf("%s-exec-%d", app.Name, i+1), "executor", app.Spec.Executor.SparkPodSpec))
	}
	return pods
}

// runPlatform starts a control plane with the scheduler and the workload
// controllers, a kubelet node of the given capacity, applies objs and then
// creates the example's pods (the driver first, the executors after it, as
// they come in a real run). elapsed measures from the end of the apply, so
// that it times the scheduler, the controllers and the kubelet, not the
// API server's CRD handling.
func runPlatform(t *testing.T, capacity config.Capacity, objs []*unstructured.Unstructured, example []*corev1.Pod) (cs kubernetes.Interface, elapsed func() time.Duration) {
	t.Helper()
	cluster := testcluster.Start(t, testcluster.WithControllerManager(testcluster.WorkloadControllers()...), testcluster.WithScheduler())
	cs = kubernetes.NewForConfigOrDie(cluster.RestConfig())
	testnode.StartKubelet(t, cs, testnode.KubeletOptions{Capacity: capacity})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pods not bound to a node:\n%s", strings.Join(testnode.PendingPods(context.Background(), cs), "\n"))
		}
	})

	ctx := context.Background()
	began := time.Now()
	if _, err := newApplier(t, cluster.RestConfig()).ApplyStaged(ctx, objs, kube.Options{Force: true}, 8); err != nil {
		t.Fatal(err)
	}
	applied := time.Now()
	t.Logf("applied %d objects in %s", len(objs), applied.Sub(began).Round(100*time.Millisecond))
	// Argo CD syncs the examples after the platform (sync waves), and a
	// driver is submitted once the operator runs: the platform's pods are
	// placed first, so a node too small leaves the example's pods Pending,
	// not a platform pod that lost a race.
	waitSettled(t, cs, func(s podCensus) bool { return s.settled() && len(s.withoutPods) == 0 }, schedulerTimeout)
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("platform pods up (or judged unschedulable) %s after the apply ended", time.Since(applied).Round(100*time.Millisecond))
	for _, p := range example {
		// The driver's ServiceAccount comes with the tree; retried only
		// because the namespace's admission caches may lag the apply.
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := cs.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("create example pod %s/%s: %v", p.Namespace, p.Name, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return cs, func() time.Duration { return time.Since(applied) }
}

// podCensus is every pod of the cluster at one moment, sorted by state.
type podCensus struct {
	pods          map[string]*corev1.Pod
	notUp         []string // bound, or not yet decided, and not yet Ready/Succeeded
	unschedulable []string
	// workloads that the controllers have not made ready yet
	workloads []string
	// workloads whose controllers have not created all their pods yet
	withoutPods []string
}

// allUp: every pod bound and Ready (or Succeeded), and every Deployment and
// StatefulSet ready and every Job Complete by the real controllers' status.
func (s podCensus) allUp() bool {
	return len(s.pods) > 0 && len(s.notUp) == 0 && len(s.unschedulable) == 0 && len(s.workloads) == 0
}

// settled: nothing is on its way; each pod is up or judged unschedulable.
func (s podCensus) settled() bool { return len(s.pods) > 0 && len(s.notUp) == 0 }

func census(t *testing.T, cs kubernetes.Interface) podCensus {
	t.Helper()
	ctx := context.Background()
	s := podCensus{pods: map[string]*corev1.Pod{}}
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		key := p.Namespace + "/" + p.Name
		s.pods[key] = p
		switch {
		case p.Status.Phase == corev1.PodSucceeded || testnode.PodReady(p):
		case p.Spec.NodeName == "" && unschedulable(p):
			s.unschedulable = append(s.unschedulable, key)
		default:
			s.notUp = append(s.notUp, fmt.Sprintf("%s (phase %s, node %q)", key, p.Status.Phase, p.Spec.NodeName))
		}
	}
	deployments, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deployments.Items {
		c := d.Status.Conditions
		available := slices.ContainsFunc(c, func(c appsv1.DeploymentCondition) bool {
			return c.Type == "Available" && c.Status == corev1.ConditionTrue
		})
		if d.Status.ObservedGeneration != d.Generation || d.Status.Replicas != ptr.Deref(d.Spec.Replicas, 1) {
			s.withoutPods = append(s.withoutPods, "Deployment "+d.Namespace+"/"+d.Name)
		}
		if d.Status.ObservedGeneration != d.Generation || !available || d.Status.ReadyReplicas != ptr.Deref(d.Spec.Replicas, 1) {
			s.workloads = append(s.workloads, fmt.Sprintf("Deployment %s/%s (ready %d/%d)", d.Namespace, d.Name, d.Status.ReadyReplicas, ptr.Deref(d.Spec.Replicas, 1)))
		}
	}
	statefulSets, err := cs.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ss := range statefulSets.Items {
		want := ptr.Deref(ss.Spec.Replicas, 1)
		if ss.Status.ObservedGeneration != ss.Generation || ss.Status.Replicas != want {
			s.withoutPods = append(s.withoutPods, "StatefulSet "+ss.Namespace+"/"+ss.Name)
		}
		if ss.Status.ObservedGeneration != ss.Generation || ss.Status.ReadyReplicas != want || ss.Status.AvailableReplicas != want {
			s.workloads = append(s.workloads, fmt.Sprintf("StatefulSet %s/%s (ready %d/%d)", ss.Namespace, ss.Name, ss.Status.ReadyReplicas, want))
		}
	}
	jobs, err := cs.BatchV1().Jobs("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs.Items {
		if j.Status.Active+j.Status.Succeeded+j.Status.Failed == 0 {
			s.withoutPods = append(s.withoutPods, "Job "+j.Namespace+"/"+j.Name)
		}
		if !slices.ContainsFunc(j.Status.Conditions, func(c batchv1.JobCondition) bool { return c.Type == "Complete" && c.Status == corev1.ConditionTrue }) {
			s.workloads = append(s.workloads, fmt.Sprintf("Job %s/%s (succeeded %d)", j.Namespace, j.Name, j.Status.Succeeded))
		}
	}
	return s
}

func unschedulable(p *corev1.Pod) bool {
	return slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable
	})
}

// waitSettled polls the census until done holds, or fails naming what is
// not up, not ready or Pending.
func waitSettled(t *testing.T, cs kubernetes.Interface, done func(podCensus) bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := census(t, cs)
		if done(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("not settled within %s:\npods not up: %s\nworkloads not ready: %s\nworkloads without their pods: %s\nPending:\n%s", timeout,
				strings.Join(s.notUp, ", "), strings.Join(s.workloads, ", "), strings.Join(s.withoutPods, ", "),
				strings.Join(testnode.PendingPods(context.Background(), cs), "\n"))
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}
