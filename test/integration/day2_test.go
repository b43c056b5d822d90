//go:build linux

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/bootstrap"
	"github.com/rdspark/gen/bootstrap/doctor"
	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/status"
	"github.com/rdspark/gen/cmd/gen/app"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/testnode"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// gen runs the CLI in dir (where gen.yaml is) against the cluster's
// kubeconfig with --context testcluster, and returns stdout, stderr and the
// exit code main would return.
func gen(t *testing.T, dir string, cluster *testcluster.Cluster, args ...string) (string, string, int) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	if cluster != nil {
		args = append(args, "--kubeconfig", cluster.KubeconfigPath(), "--context", "testcluster")
	}
	var out, errOut bytes.Buffer
	err := app.Run(args, app.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	code := 0
	if err != nil {
		code = 1
		var exit *app.ExitError
		if errors.As(err, &exit) {
			code = exit.Code
		}
		errOut.WriteString("gen: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), code
}

// configDir writes cfg as gen.yaml into a new folder.
func configDir(t *testing.T, cfg config.Platform) string {
	t.Helper()
	dir := t.TempDir()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gen.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// installPlatform does what bootstrap plus a full Argo CD sync would: it
// bootstraps, then applies every component overlay and the apps.
func installPlatform(t *testing.T, cluster *testcluster.Cluster, cfg config.Platform) {
	t.Helper()
	var out bytes.Buffer
	if err := bootstrap.Run(context.Background(), bootstrapOptions(cluster, cfg, &out)); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out.String())
	}
	overlay, _ := renderedTree(t, cfg, "rancher-desktop")
	a := newApplier(t, cluster.RestConfig())
	if _, err := a.ApplyStaged(context.Background(), overlay, kube.Options{Force: true}, 8); err != nil {
		t.Fatal(err)
	}
}

// markApplications writes Synced/Healthy into every Application's status, as
// Argo CD would after a successful sync (the CRD has no status subresource).
func markApplications(cluster *testcluster.Cluster, health string) error {
	dyn := dynamic.NewForConfigOrDie(cluster.RestConfig())
	apps := dyn.Resource(applications).Namespace("argocd")
	list, err := apps.List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, a := range list.Items {
		patch := []byte(`{"status":{"sync":{"status":"Synced","revision":"0123456789abcdef"},"health":{"status":"` + health + `"}}}`)
		if _, err := apps.Patch(context.Background(), a.GetName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func TestStatus(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)
	dir := configDir(t, cfg)

	// Nothing installed: not healthy, exit 1, the root Application named.
	stdout, _, code := gen(t, dir, cluster, "status")
	if code != 1 || !strings.Contains(stdout, "spark-platform") || !strings.Contains(stdout, "Missing") {
		t.Errorf("status on an empty cluster: exit %d\n%s", code, stdout)
	}

	installPlatform(t, cluster, cfg)
	stdout, _, code = gen(t, dir, cluster, "status", "-o", "json")
	var r status.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, stdout)
	}
	if code != 1 || r.Healthy || len(r.Applications) != 8 || len(r.Workloads) == 0 {
		t.Errorf("before sync: exit %d, report %+v", code, r)
	}

	// --wait returns once Argo CD (here: the test) reports health and the
	// workloads are ready.
	testnode.StartNode(t, kubernetes.NewForConfigOrDie(cluster.RestConfig()))
	if err := markApplications(cluster, "Progressing"); err != nil {
		t.Fatal(err)
	}
	// The Applications turn healthy only once Wait has reported progress, so
	// the progress line is proven without depending on timing.
	progress := &signalWriter{seen: make(chan struct{})}
	marked := make(chan error, 1)
	go func() {
		select {
		case <-progress.seen:
			marked <- markApplications(cluster, "Healthy")
		case <-time.After(2 * time.Minute):
			marked <- errors.New("status.Wait printed no progress line in 2 minutes")
		}
	}()
	waitCfg := cfg
	waitCfg.Complete()
	if _, err := status.Wait(context.Background(), cluster.RestConfig(), waitCfg, "rancher-desktop", 2*time.Minute, 200*time.Millisecond, progress); err != nil {
		t.Fatalf("status.Wait: %v\n%s", err, progress.String())
	}
	if err := <-marked; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "waiting:") {
		t.Errorf("status --wait printed no progress:\n%s", progress.String())
	}
	// The CLI returns at once on a healthy platform.
	_, stderr, code := gen(t, dir, cluster, "status", "--wait", "--timeout", "2m")
	if code != 0 {
		t.Fatalf("status --wait: exit %d\n%s", code, stderr)
	}
	stdout, _, code = gen(t, dir, cluster, "status")
	for _, want := range []string{"spark-history", "Synced", "Healthy", "0123456789ab", "Deployment/minio/minio", "Current", "http://argocd.192.168.64.3.sslip.io", "healthy"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}
	if code != 0 {
		t.Errorf("healthy platform: exit %d", code)
	}

	// A platform pod the scheduler cannot place (its status written here as
	// kube-scheduler writes it; the end-to-end test has the real scheduler
	// leave one Pending) makes the platform unhealthy, named with the
	// scheduler's message and the fix. A job namespace's pod in the same
	// state is a Spark job's, not the platform's.
	unschedulable := func(ns, name string) {
		cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/c:1"}}},
		}
		restricted(pod)
		pod, err := cs.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pod.Status.Phase = corev1.PodPending
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
			Message: "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."}}
		if _, err := cs.CoreV1().Pods(ns).UpdateStatus(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	unschedulable("spark-jobs", "spark-pi-driver")
	if _, _, code := gen(t, dir, cluster, "status"); code != 0 {
		t.Errorf("a Spark job's pod waiting for room made the platform unhealthy: exit %d", code)
	}
	unschedulable("spark-history", "spark-history-6f7d9-x2x5k")
	stdout, _, code = gen(t, dir, cluster, "status")
	for _, want := range []string{"PENDING POD", "spark-history/spark-history-6f7d9-x2x5k", "Unschedulable", "1 Insufficient memory", "Preferences > Virtual Machine", "NOT healthy"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status with an unschedulable History Server pod lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "spark-pi-driver") {
		t.Errorf("status lists a job namespace's pod:\n%s", stdout)
	}
	if code != 1 {
		t.Errorf("status with an unschedulable pod: exit %d, want 1", code)
	}
}

func TestDoctor(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)
	ctx := context.Background()
	noDNS := func(context.Context, string) ([]string, error) { return nil, errors.New("no such host") }

	findings, err := doctor.Run(ctx, cluster.RestConfig(), doctor.Options{Config: cfg, Environment: "rancher-desktop", LookupHost: noDNS})
	if err != nil {
		t.Fatal(err)
	}
	wantFinding(t, findings, "namespace minio", doctor.Failure, "run gen bootstrap")
	wantFinding(t, findings, "CRD applications.argoproj.io", doctor.Failure, "run gen bootstrap")

	installPlatform(t, cluster, cfg)
	cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
	// The History Server's image is not in the cluster.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "spark-history-abc", Namespace: "spark-history"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-history", Image: "ghcr.io/rdspark/spark-s3a:x"}}},
	}
	restricted(pod)
	pod, err = cs.CoreV1().Pods("spark-history").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sparkImage, err := image.Reference(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-history", Image: sparkImage,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}
	if _, err := cs.CoreV1().Pods("spark-history").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A job namespace stuck terminating (no namespace controller runs here).
	if err := cs.CoreV1().Namespaces().Delete(ctx, "spark-jobs", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	findings, err = doctor.Run(ctx, cluster.RestConfig(), doctor.Options{Config: cfg, Environment: "rancher-desktop", LookupHost: noDNS})
	if err != nil {
		t.Fatal(err)
	}
	wantFinding(t, findings, "namespace minio", doctor.OK, "")
	wantFinding(t, findings, "CRD sparkapplications.sparkoperator.k8s.io", doctor.OK, "")
	wantFinding(t, findings, "pod spark-history/spark-history-abc", doctor.Failure, "make image")
	wantFinding(t, findings, "namespace spark-jobs", doctor.Failure, "terminating")
	wantFinding(t, findings, "Argo CD", doctor.Failure, "argocd-application-controller is not ready")
	wantFinding(t, findings, "Spark Operator webhook", doctor.Failure, "spark-operator-webhook-certs")
	wantFinding(t, findings, "DNS minio-console.192.168.64.3.sslip.io", doctor.Warning, "/etc/hosts")
	wantFinding(t, findings, "node capacity", doctor.Warning, "cannot list the nodes")

	// A VM smaller than the platform's requests (900m CPU, 2700Mi): doctor
	// names the Rancher Desktop setting and by how much; a default-sized
	// VM (2 CPUs, 4 GB less the kubelet's 100Mi eviction threshold) fits.
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "lima-rancher-desktop"}}
	if node, err = cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	setAllocatable := func(cpu, memory string) {
		node.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
		if node, err = cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	setAllocatable("1", "1948Mi")
	findings, err = doctor.Run(ctx, cluster.RestConfig(), doctor.Options{Config: cfg, Environment: "rancher-desktop", LookupHost: noDNS})
	if err != nil {
		t.Fatal(err)
	}
	wantFinding(t, findings, "node capacity", doctor.Failure, "Preferences > Virtual Machine > Memory by at least 1 GB")
	setAllocatable("2", "3996Mi")
	findings, err = doctor.Run(ctx, cluster.RestConfig(), doctor.Options{Config: cfg, Environment: "rancher-desktop", LookupHost: noDNS})
	if err != nil {
		t.Fatal(err)
	}
	wantFinding(t, findings, "node capacity", doctor.OK, "")

	// The CLI exits 1 and prints the cause and fix.
	stdout, _, code := gen(t, configDir(t, cfg), cluster, "doctor")
	if code != 1 || !strings.Contains(stdout, "likely cause:") || !strings.Contains(stdout, "fix:") {
		t.Errorf("gen doctor: exit %d\n%s", code, stdout)
	}
}

func wantFinding(t *testing.T, findings []doctor.Finding, check string, sev doctor.Severity, text string) {
	t.Helper()
	for _, f := range findings {
		if f.Check == check {
			if f.Severity != sev || !strings.Contains(f.Problem+f.Cause+f.Fix, text) {
				t.Errorf("%s: %+v, want %s mentioning %q", check, f, sev, text)
			}
			return
		}
	}
	t.Errorf("no finding for %s in %+v", check, findings)
}

func restricted(pod *corev1.Pod) {
	yes, no, uid := true, false, int64(185)
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	for i := range pod.Spec.Containers {
		pod.Spec.Containers[i].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	}
}

func TestDiff(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)

	// Empty cluster: everything would be created.
	stdout, _, code := gen(t, configDir(t, cfg), cluster, "diff")
	if code != 1 || !strings.Contains(stdout, "# create Deployment/minio/minio") {
		t.Errorf("diff on an empty cluster: exit %d\n%.2000s", code, stdout)
	}

	installPlatform(t, cluster, cfg)
	stdout, stderr, code := gen(t, configDir(t, cfg), cluster, "diff")
	if code != 0 {
		t.Errorf("diff right after applying the same tree: exit %d\n%s\n%s", code, stdout, stderr)
	}

	changed := cfg
	changed.Spec.HistoryServer.Cleaner.MaxAge = "14d"
	stdout, _, code = gen(t, configDir(t, changed), cluster, "diff")
	if code != 1 || !strings.Contains(stdout, "# update ConfigMap/spark-history/spark-history") || !strings.Contains(stdout, "+    spark.history.fs.cleaner.maxAge 14d") {
		t.Errorf("diff after a config change: exit %d\n%s", code, stdout)
	}
	if strings.Contains(stdout, "Deployment/minio/minio") {
		t.Errorf("diff reports an object that did not change:\n%s", stdout)
	}
}

func TestTeardown(t *testing.T) {
	cfg := upstreamtest.Config(t)
	ctx := context.Background()

	t.Run("half installed, Argo CD not running", func(t *testing.T) {
		cluster := testcluster.Start(t, testcluster.WithControllerManager("namespace-controller", "garbage-collector-controller", "persistentvolumeclaim-protection-controller"))
		installPlatform(t, cluster, cfg)
		cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
		_, stderr, code := gen(t, configDir(t, cfg), cluster, "teardown", "--timeout", "3m")
		if code != 0 {
			t.Fatalf("teardown: exit %d\n%s", code, stderr)
		}
		for _, ns := range []string{"argocd", "spark-operator", "spark-history", "spark-jobs"} {
			if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("namespace %s survived teardown (%v)", ns, err)
			}
		}
		if _, err := cs.CoreV1().PersistentVolumeClaims("minio").Get(ctx, "minio-data", metav1.GetOptions{}); err != nil {
			t.Errorf("MinIO's volume was not kept: %v", err)
		}
		if _, err := cs.CoreV1().Secrets("minio").Get(ctx, "minio-root", metav1.GetOptions{}); err != nil {
			t.Errorf("MinIO's credentials were not kept: %v", err)
		}
		if _, err := cs.AppsV1().Deployments("minio").Get(ctx, "minio", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("MinIO's Deployment survived teardown (%v)", err)
		}
		dyn := dynamic.NewForConfigOrDie(cluster.RestConfig())
		if _, err := dyn.Resource(crdGVR).Get(ctx, "applications.argoproj.io", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Argo CD's CRD survived teardown (%v)", err)
		}

		// Again, on what is left, and with --purge: MinIO's data goes too.
		_, stderr, code = gen(t, configDir(t, cfg), cluster, "teardown", "--purge", "--timeout", "3m")
		if code != 0 {
			t.Fatalf("teardown --purge: exit %d\n%s", code, stderr)
		}
		if _, err := cs.CoreV1().Namespaces().Get(ctx, "minio", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace minio survived --purge (%v)", err)
		}
	})

	t.Run("namespace stuck terminating", func(t *testing.T) {
		cluster := testcluster.Start(t, testcluster.WithControllerManager("namespace-controller", "garbage-collector-controller", "persistentvolumeclaim-protection-controller"))
		installPlatform(t, cluster, cfg)
		cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Namespace: "spark-jobs", Finalizers: []string{"example.com/hold"}}}
		if _, err := cs.CoreV1().ConfigMaps("spark-jobs").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := gen(t, configDir(t, cfg), cluster, "teardown", "--timeout", "20s")
		if code == 0 || !strings.Contains(stderr, "spark-jobs (Terminating") || !strings.Contains(stderr, "finalizer") {
			t.Errorf("teardown with a stuck namespace: exit %d\n%s", code, stderr)
		}
		// Release it: a second teardown finishes.
		if _, err := cs.CoreV1().ConfigMaps("spark-jobs").Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := gen(t, configDir(t, cfg), cluster, "teardown", "--timeout", "3m"); code != 0 {
			t.Errorf("teardown after the finalizer was released: exit %d\n%s", code, stderr)
		}
	})

	t.Run("non-local context refused", func(t *testing.T) {
		cluster := testcluster.Start(t)
		installPlatform(t, cluster, cfg)
		// A kubeconfig whose only (and current) context is "prod".
		raw, err := os.ReadFile(cluster.KubeconfigPath())
		if err != nil {
			t.Fatal(err)
		}
		prod := filepath.Join(t.TempDir(), "kubeconfig")
		os.WriteFile(prod, []byte(strings.ReplaceAll(string(raw), "testcluster", "prod")), 0o600)
		_, stderr, code := gen(t, configDir(t, cfg), nil, "teardown", "--kubeconfig", prod)
		if code == 0 || !strings.Contains(stderr, `no context "rancher-desktop"`) {
			t.Errorf("teardown on a non-local current context: exit %d\n%s", code, stderr)
		}
		if _, err := kubernetes.NewForConfigOrDie(cluster.RestConfig()).CoreV1().Namespaces().Get(ctx, "argocd", metav1.GetOptions{}); err != nil {
			t.Errorf("a refused teardown deleted something: %v", err)
		}
	})
}

// signalWriter collects what is written and closes seen at the first write.
type signalWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.seen) })
	return w.buf.Write(p)
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
