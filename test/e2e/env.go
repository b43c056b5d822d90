//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/testnode"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// Env is everything an end-to-end test runs against, except Argo CD itself
// (StartArgoCD), so a test can install Argo CD's CRDs and config its own way
// (InstallArgoCD, or gen bootstrap) before the controller starts.
type Env struct {
	// Cluster is etcd + kube-apiserver + kube-scheduler +
	// kube-controller-manager running the workload controllers
	// (testcluster.WorkloadControllers).
	Cluster    *testcluster.Cluster
	RestConfig *rest.Config
	Client     kubernetes.Interface
	Dynamic    dynamic.Interface
	// Kubelet plays the one node, sized like Rancher Desktop's default VM
	// (the default environment's capacity), with k3s's system pods on it:
	// it runs (reports running) the pods the scheduler binds to it.
	Kubelet *testnode.Kubelet
	// Git serves repositories over HTTP on loopback.
	Git *GitServer
	// Redis is redis-server's address (host:port).
	Redis string
	// UpstreamURL serves ../shared/upstream on loopback with
	// upstreamtest.Handler's URL layout; ArgoCDInstallURL is the
	// install.yaml of ArgoCDVersion on it.
	UpstreamURL      string
	ArgoCDInstallURL string
	// ArgoCD is set by StartArgoCD.
	ArgoCD *ArgoCD
}

// RequireE2E skips the test under -short and fails it when TestMain did not
// move the binary into its private namespace (see Main).
func RequireE2E(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: runs a control plane and Argo CD; skipped under -short")
	}
	if !InPrivateNamespace() {
		t.Fatal("e2e: not in the private network namespace: the package's TestMain must call e2e.Main")
	}
}

// Start brings up the environment for the test: the control plane with the
// real scheduler and workload controllers, a Rancher-Desktop-sized node,
// redis, the Git server and the upstream file server. Everything is stopped
// when the test ends.
func Start(t testing.TB) *Env {
	t.Helper()
	RequireE2E(t)
	requireArgoCDBinaries(t, ArgoCDBinDir()) // fail before minutes of setup, not after
	dir, err := upstreamtest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(upstreamtest.Handler(dir))
	t.Cleanup(up.Close)

	e := &Env{UpstreamURL: up.URL, ArgoCDInstallURL: up.URL + ArgoCDInstallPath(ArgoCDVersion)}
	e.Cluster = testcluster.Start(t,
		testcluster.WithControllerManager(testcluster.WorkloadControllers()...),
		testcluster.WithScheduler())
	e.RestConfig = e.Cluster.RestConfig()
	e.Client = kubernetes.NewForConfigOrDie(e.RestConfig)
	e.Dynamic = dynamic.NewForConfigOrDie(e.RestConfig)
	e.Kubelet = testnode.StartKubelet(t, e.Client, testnode.KubeletOptions{Capacity: NodeCapacity})
	e.Redis = StartRedis(t)
	e.Git = StartGitServer(t)
	return e
}

// NodeCapacity is the test node's CPU and memory: the default environment's,
// Rancher Desktop's default VM (config.RancherDesktopCapacity).
var NodeCapacity = config.DefaultEnvironment().Capacity

// InstallArgoCD installs Argo CD's CRDs, config objects and the default
// AppProject from ArgoCDInstallURL (see the package function).
func (e *Env) InstallArgoCD(t testing.TB) {
	t.Helper()
	InstallArgoCD(t, e.RestConfig, e.ArgoCDInstallURL)
}

// StartArgoCD starts the repo-server and the application controller against
// this environment's cluster and redis; o.Kubeconfig and o.Redis are filled
// in.
func (e *Env) StartArgoCD(t testing.TB, o ArgoCDOptions) *ArgoCD {
	t.Helper()
	o.Kubeconfig = e.Cluster.KubeconfigPath()
	o.Redis = e.Redis
	e.ArgoCD = StartArgoCD(t, o)
	return e.ArgoCD
}

// ApplicationGVR is Argo CD's Application resource.
var ApplicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// AppState is what tests look at in an Application's status.
type AppState struct {
	Exists   bool
	Sync     string // status.sync.status: Synced, OutOfSync, Unknown
	Revision string // status.sync.revision: the commit compared against
	Health   string // status.health.status: Healthy, Progressing, ...
	// Operation is status.operationState.phase (Running, Succeeded,
	// Failed, Error) and OperationMessage its message.
	Operation        string
	OperationMessage string
	// Conditions are status.conditions as "Type: message".
	Conditions []string
	// Unready lists the resources that are not Synced or not Healthy, as
	// "Kind/namespace/name sync/health".
	Unready []string
	// ReconciledAt is status.reconciledAt: when Argo CD last finished
	// comparing the live state with Git (RFC 3339, whole seconds).
	ReconciledAt time.Time
}

func (s AppState) String() string {
	if !s.Exists {
		return "(no such Application)"
	}
	rev := s.Revision
	if len(rev) > 8 {
		rev = rev[:8]
	}
	msg := fmt.Sprintf("sync=%s revision=%s health=%s operation=%s", s.Sync, rev, s.Health, s.Operation)
	if s.OperationMessage != "" {
		msg += fmt.Sprintf(" (%s)", s.OperationMessage)
	}
	if len(s.Conditions) > 0 {
		msg += "; conditions: " + strings.Join(s.Conditions, "; ")
	}
	if len(s.Unready) > 0 {
		msg += "; not synced/healthy: " + strings.Join(s.Unready, ", ")
	}
	return msg
}

// SyncedHealthy is true once the Application is Synced and Healthy; with a
// revision, only at that commit.
func (s AppState) SyncedHealthy(revision string) bool {
	return s.Sync == "Synced" && s.Health == "Healthy" && (revision == "" || s.Revision == revision)
}

// AppState reads the state of the Application name in ArgoCDNamespace.
func (e *Env) AppState(ctx context.Context, name string) (AppState, error) {
	app, err := e.Dynamic.Resource(ApplicationGVR).Namespace(ArgoCDNamespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return AppState{}, nil
	}
	if err != nil {
		return AppState{}, err
	}
	return appStateOf(app), nil
}

func appStateOf(app *unstructured.Unstructured) AppState {
	s := AppState{Exists: true}
	str := func(fields ...string) string {
		v, _, _ := unstructured.NestedString(app.Object, fields...)
		return v
	}
	s.Sync = str("status", "sync", "status")
	s.Revision = str("status", "sync", "revision")
	s.Health = str("status", "health", "status")
	s.Operation = str("status", "operationState", "phase")
	s.ReconciledAt, _ = time.Parse(time.RFC3339, str("status", "reconciledAt"))
	s.OperationMessage = str("status", "operationState", "message")
	conds, _, _ := unstructured.NestedSlice(app.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok {
			s.Conditions = append(s.Conditions, fmt.Sprintf("%v: %v", m["type"], m["message"]))
		}
	}
	res, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	for _, r := range res {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		sync, _ := m["status"].(string)
		health, _, _ := unstructured.NestedString(m, "health", "status")
		if sync != "Synced" || (health != "" && health != "Healthy") {
			s.Unready = append(s.Unready, fmt.Sprintf("%v/%v/%v %s/%s", m["kind"], m["namespace"], m["name"], sync, health))
		}
	}
	return s
}

// WaitApp polls the Application name until cond holds and returns its
// state; after timeout it fails the test with the last state seen and the
// pods that the scheduler left Pending (see AwaitApp).
func (e *Env) WaitApp(t testing.TB, name string, timeout time.Duration, cond func(AppState) bool) AppState {
	t.Helper()
	state, err := e.AwaitApp(context.Background(), name, timeout, cond)
	if err != nil {
		t.Fatal(err)
	}
	return state
}

// AwaitApp polls the Application name until cond holds and returns its
// state. After timeout, the error names the last state seen and every pod
// the scheduler left Pending, with its reason ("ns/pod: Unschedulable: 0/1
// nodes are available: 1 Insufficient memory."): an Application that never
// becomes Healthy because a pod does not fit on the laptop-sized node says
// which pod and why.
func (e *Env) AwaitApp(ctx context.Context, name string, timeout time.Duration, cond func(AppState) bool) (AppState, error) {
	var last AppState
	var lastErr error
	err := Poll(ctx, timeout, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		last, lastErr = e.AppState(ctx, name)
		return lastErr == nil && cond(last), nil
	})
	if err == nil {
		return last, nil
	}
	msg := fmt.Sprintf("e2e: Application %s: condition not met within %s: last state: %s (read error: %v)", name, timeout, last, lastErr)
	if pending := testnode.PendingPods(context.Background(), e.Client); len(pending) > 0 {
		msg += "\npods Pending on the " + string(NodeCapacity.CPU) + " CPU / " + string(NodeCapacity.Memory) + " node:\n  " + strings.Join(pending, "\n  ")
	}
	return last, errors.New(msg)
}

// RefreshApp asks the controller to re-read Git now and regenerate the
// manifests (annotation argocd.argoproj.io/refresh=hard, which the
// controller removes when done), as `argocd app get --hard-refresh` does.
func (e *Env) RefreshApp(t testing.TB, name string) {
	t.Helper()
	patch := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"hard"}}}`)
	_, err := e.Dynamic.Resource(ApplicationGVR).Namespace(ArgoCDNamespace).Patch(context.Background(), name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("e2e: refresh Application %s: %v", name, err)
	}
}

// CreateApp creates obj (an Application; its namespace defaults to
// ArgoCDNamespace).
func (e *Env) CreateApp(t testing.TB, obj *unstructured.Unstructured) {
	t.Helper()
	if obj.GetNamespace() == "" {
		obj.SetNamespace(ArgoCDNamespace)
	}
	if _, err := e.Dynamic.Resource(ApplicationGVR).Namespace(obj.GetNamespace()).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("e2e: create Application %s: %v", obj.GetName(), err)
	}
}

// Application builds an Application named name in ArgoCDNamespace that
// syncs path of repoURL (at branch main) into this cluster, automatically,
// with prune and self-heal, in the default project.
func Application(name, repoURL, path string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata":   map[string]any{"name": name, "namespace": ArgoCDNamespace},
		"spec": map[string]any{
			"project": "default",
			"source": map[string]any{
				"repoURL":        repoURL,
				"targetRevision": "main",
				"path":           path,
			},
			"destination": map[string]any{"server": "https://kubernetes.default.svc"},
			"syncPolicy": map[string]any{
				"automated": map[string]any{"prune": true, "selfHeal": true},
			},
		},
	}}
}

// WaitGone polls until the object is not found (deleted and finalized).
func (e *Env) WaitGone(t testing.TB, gvr schema.GroupVersionResource, namespace, name string, timeout time.Duration) {
	t.Helper()
	var lastErr error
	err := Poll(context.Background(), timeout, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := e.Dynamic.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		lastErr = err
		return false, nil
	})
	if err != nil {
		t.Fatalf("e2e: %s %s/%s still there after %s (last error: %v)", gvr.Resource, namespace, name, timeout, lastErr)
	}
}

// Poll calls cond every interval until it returns true or an error, or
// timeout passes (then it returns the context's error).
func Poll(ctx context.Context, timeout, interval time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := cond(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// DumpApp returns the Application as JSON, for a failure message.
func (e *Env) DumpApp(name string) string {
	app, err := e.Dynamic.Resource(ApplicationGVR).Namespace(ArgoCDNamespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	b, _ := json.MarshalIndent(app.Object["status"], "", "  ")
	return string(b)
}
