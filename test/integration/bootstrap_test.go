//go:build linux

package integration

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/bootstrap"
	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/testnode"
	"github.com/rdspark/gen/internal/testtree"
	"github.com/rdspark/gen/internal/upstreamtest"
)

const (
	testRepo     = "http://git.example.test/platform.git"
	testRevision = "release-1"
	testToken    = "tok-never-printed-0123456789"
)

// bootstrapOptions points bootstrap at cluster through its kubeconfig, as a
// user would (with --context named, since it is not rancher-desktop).
func bootstrapOptions(cluster *testcluster.Cluster, cfg config.Platform, out *bytes.Buffer) bootstrap.Options {
	return bootstrap.Options{
		Config:          cfg,
		Environment:     "rancher-desktop",
		Kubeconfig:      cluster.KubeconfigPath(),
		Context:         "testcluster",
		ContextExplicit: true,
		RepoURL:         testRepo,
		Revision:        testRevision,
		GitToken:        testToken,
		Timeout:         time.Minute,
		RequestTimeout:  10 * time.Second,
		Out:             out,
		Verbose:         true,
	}
}

// argoObjects is what bootstrap should have applied: the built Argo CD
// overlay (from the loopback upstream) plus the namespaces.
func argoObjects(t *testing.T, cfg config.Platform) []*unstructured.Unstructured {
	t.Helper()
	dir := testtree.Write(t, cfg)
	var objs []*unstructured.Unstructured
	for _, f := range []string{"namespaces", "argocd"} {
		built := testtree.Build(t, dir, "overlays", "rancher-desktop", f)
		objs = append(objs, built...)
	}
	return objs
}

var applications = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// assertBootstrapped checks the end state and returns a snapshot of every
// object bootstrap owns (for the "nothing changes" comparison).
func assertBootstrapped(t *testing.T, cluster *testcluster.Cluster, cfg config.Platform) map[string]map[string]any {
	t.Helper()
	ctx := context.Background()
	a := newApplier(t, cluster.RestConfig())
	snap := map[string]map[string]any{}
	for _, o := range argoObjects(t, cfg) {
		live, err := a.Get(ctx, o)
		if err != nil || live == nil {
			t.Errorf("%s missing after bootstrap (%v)", kube.Ref(o), err)
			continue
		}
		snap[kube.Ref(o)] = stable(live)
	}
	dyn := dynamic.NewForConfigOrDie(cluster.RestConfig())
	root, err := dyn.Resource(applications).Namespace("argocd").Get(ctx, "spark-platform", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("root Application: %v", err)
	}
	src, _, _ := unstructured.NestedStringMap(root.Object, "spec", "source")
	if src["repoURL"] != testRepo || src["targetRevision"] != testRevision || src["path"] != "overlays/rancher-desktop/apps" {
		t.Errorf("root Application source = %v", src)
	}
	snap["root"] = stable(root)

	cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
	var creds []byte
	for _, ns := range []string{"minio", "spark-history", "spark-jobs"} {
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, "minio-root", metav1.GetOptions{})
		if err != nil {
			t.Errorf("MinIO credentials in %s: %v", ns, err)
			continue
		}
		if len(s.Data["rootPassword"]) < 32 || string(s.Data["rootUser"]) == "" {
			t.Errorf("MinIO credentials in %s are weak or empty", ns)
		}
		b := append(append([]byte{}, s.Data["rootUser"]...), s.Data["rootPassword"]...)
		if creds == nil {
			creds = b
		} else if !bytes.Equal(creds, b) {
			t.Errorf("MinIO credentials in %s differ from minio's", ns)
		}
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
		if err != nil {
			t.Fatal(err)
		}
		snap["Secret/"+ns] = stable(&unstructured.Unstructured{Object: obj})
	}
	repo, err := cs.CoreV1().Secrets("argocd").Get(ctx, "gen-repository", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("repository Secret: %v", err)
	}
	if string(repo.Data["url"]) != testRepo || string(repo.Data["password"]) != testToken || repo.Labels["argocd.argoproj.io/secret-type"] != "repository" {
		t.Errorf("repository Secret = labels %v, url %q", repo.Labels, repo.Data["url"])
	}
	return snap
}

func TestBootstrapIsCompleteAndIdempotent(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)
	ctx := context.Background()

	var snaps []map[string]map[string]any
	var outputs []string
	for run := 1; run <= 3; run++ {
		var out bytes.Buffer
		if err := bootstrap.Run(ctx, bootstrapOptions(cluster, cfg, &out)); err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, out.String())
		}
		outputs = append(outputs, out.String())
		snaps = append(snaps, assertBootstrapped(t, cluster, cfg))
	}
	for i := 1; i < len(snaps); i++ {
		if diff := cmp.Diff(snaps[0], snaps[i]); diff != "" {
			t.Errorf("run %d changed objects:\n%s", i+1, diff)
		}
		if !strings.Contains(outputs[i], "nothing changed") {
			t.Errorf("run %d does not say nothing changed:\n%s", i+1, outputs[i])
		}
	}
	for i, o := range outputs {
		if strings.Contains(o, testToken) {
			t.Errorf("run %d printed the Git token", i+1)
		}
		for _, ns := range []string{"minio"} {
			s, _ := kubernetes.NewForConfigOrDie(cluster.RestConfig()).CoreV1().Secrets(ns).Get(ctx, "minio-root", metav1.GetOptions{})
			if strings.Contains(o, string(s.Data["rootPassword"])) {
				t.Errorf("run %d printed the MinIO password", i+1)
			}
		}
	}
	t.Logf("first run output:\n%s", outputs[0])
}

// TestBootstrapResumesAfterEveryStep stops a run after each step in turn (a
// hook, as if the process were killed there), runs again, and checks the
// cluster converges to the same state as an uninterrupted run.
func TestBootstrapResumesAfterEveryStep(t *testing.T) {
	cfg := upstreamtest.Config(t)
	for _, step := range bootstrap.Steps() {
		t.Run(step, func(t *testing.T) {
			cluster := testcluster.Start(t)
			var out bytes.Buffer
			o := bootstrapOptions(cluster, cfg, &out)
			if step == bootstrap.StepWait && !o.Wait {
				t.Skip("these runs do not wait for Argo CD (no kubelet runs its pods here); TestBootstrapWaitsForArgoCD covers the step")
			}
			stopped := errors.New("stopped by test")
			o.AfterStep = func(s string) error {
				if s == step {
					return stopped
				}
				return nil
			}
			if err := bootstrap.Run(context.Background(), o); !errors.Is(err, stopped) {
				t.Fatalf("interrupted run: %v", err)
			}
			o.AfterStep = nil
			if err := bootstrap.Run(context.Background(), o); err != nil {
				t.Fatalf("resumed run: %v\n%s", err, out.String())
			}
			assertBootstrapped(t, cluster, cfg)
		})
	}
}

// TestBootstrapWaitsForArgoCD plays the kubelet: without it the wait times
// out naming every workload; with it (status written through the status
// subresource) the wait returns.
func TestBootstrapWaitsForArgoCD(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)
	var out bytes.Buffer
	o := bootstrapOptions(cluster, cfg, &out)
	o.Wait = true
	o.Timeout = 3 * time.Second
	start := time.Now()
	err := bootstrap.Run(context.Background(), o)
	if err == nil {
		t.Fatal("wait returned although no workload can become ready")
	}
	for _, w := range []string{"Deployment/argocd/argocd-server", "Deployment/argocd/argocd-repo-server", "StatefulSet/argocd/argocd-application-controller", "not ready after 3s"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("timeout error does not name %s:\n%v", w, err)
		}
	}
	if time.Since(start) > 60*time.Second {
		t.Errorf("timed-out bootstrap took %s", time.Since(start))
	}

	// Now play the kubelet: Deployments and StatefulSets become ready.
	testnode.StartNode(t, kubernetes.NewForConfigOrDie(cluster.RestConfig()))
	out.Reset()
	o.Timeout = 2 * time.Minute
	if err := bootstrap.Run(context.Background(), o); err != nil {
		t.Fatalf("wait with a kubelet: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "StatefulSet/argocd/argocd-application-controller ready") {
		t.Errorf("no progress line for the application controller:\n%s", out.String())
	}
}

func TestBootstrapRefusesBadInputAndFaults(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
	nothingApplied := func(t *testing.T) {
		t.Helper()
		if _, err := cs.CoreV1().Namespaces().Get(ctx, "argocd", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace argocd exists after a refused bootstrap (err %v)", err)
		}
	}

	t.Run("another context without --context", func(t *testing.T) {
		var out bytes.Buffer
		o := bootstrapOptions(cluster, cfg, &out)
		o.ContextExplicit = false
		err := bootstrap.Run(ctx, o)
		wantError(t, err, `refusing context "testcluster"`, "--context")
		nothingApplied(t)
	})
	t.Run("default context missing", func(t *testing.T) {
		var out bytes.Buffer
		o := bootstrapOptions(cluster, cfg, &out)
		o.Context, o.ContextExplicit = "", false
		wantError(t, bootstrap.Run(ctx, o), `no context "rancher-desktop"`, "testcluster")
		nothingApplied(t)
	})
	// A server that accepts connections and never answers: the first
	// request must time out within seconds, not hang.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for name, server := range map[string]string{"unreachable server": "https://127.0.0.1:1", "silent server": "https://" + silent.Addr().String()} {
		t.Run(name, func(t *testing.T) { unreachable(t, cluster, cfg, server) })
	}
	moreBadInput(t, cluster, cfg, cs, nothingApplied)
}

func unreachable(t *testing.T, cluster *testcluster.Cluster, cfg config.Platform, server string) {
	ctx := context.Background()
	{
		kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
		os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: gone
  cluster: {server: "`+server+`"}
users:
- name: u
  user: {token: x}
contexts:
- name: rancher-desktop
  context: {cluster: gone, user: u}
current-context: rancher-desktop
`), 0o600)
		var out bytes.Buffer
		o := bootstrapOptions(cluster, cfg, &out)
		o.Kubeconfig, o.Context, o.ContextExplicit = kubeconfig, "", false
		start := time.Now()
		wantError(t, bootstrap.Run(ctx, o), "API server not reachable")
		if d := time.Since(start); d > 15*time.Second { // 5 s request timeout + building the tree, on a loaded machine
			t.Errorf("unreachable server took %s to report", d)
		}
	}
}

func moreBadInput(t *testing.T, cluster *testcluster.Cluster, cfg config.Platform, cs *kubernetes.Clientset, nothingApplied func(*testing.T)) {
	ctx := context.Background()
	t.Run("missing permission", func(t *testing.T) {
		// A user that may only read: the missing permissions are named.
		rb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "reader"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
			Subjects:   []rbacv1.Subject{{Kind: "User", Name: "reader", APIGroup: "rbac.authorization.k8s.io"}},
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		o := bootstrapOptions(cluster, cfg, &out)
		restCfg := cluster.RestConfig()
		restCfg.Impersonate.UserName = "reader"
		o.RESTConfig = restCfg
		wantError(t, bootstrap.Run(ctx, o), "missing permissions", "patch customresourcedefinitions.apiextensions.k8s.io (cluster-wide)", "create secrets in namespace minio")
		nothingApplied(t)
	})
	for name, content := range map[string]string{
		"malformed install file":   "apiVersion: v1\nkind: [oops\n",
		"install without Argo CRD": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "install.yaml")
			os.WriteFile(file, []byte(content), 0o644)
			var out bytes.Buffer
			o := bootstrapOptions(cluster, cfg, &out)
			o.ArgoCDManifests = file
			wantError(t, bootstrap.Run(ctx, o), "--argocd-manifests")
			nothingApplied(t)
		})
	}
	t.Run("unreachable install URL", func(t *testing.T) {
		// Preflight passes on the real API server; the download then fails
		// as one line with the URL and both ways out, before anything is applied.
		bad := cfg
		bad.Spec.ArgoCD.ManifestsBaseURL = "http://127.0.0.1:1/argo-cd"
		var out bytes.Buffer
		err := bootstrap.Run(ctx, bootstrapOptions(cluster, bad, &out))
		wantError(t, err, "cannot download the Argo CD install", "http://127.0.0.1:1/argo-cd/v", "--argocd-manifests FILE", "spec.argocd.manifestsBaseURL")
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error takes more than one line:\n%v", err)
		}
		if !strings.Contains(out.String(), "preflight") {
			t.Errorf("preflight did not run first:\n%s", out.String())
		}
		nothingApplied(t)
	})
	t.Run("dry run touches nothing", func(t *testing.T) {
		var out bytes.Buffer
		o := bootstrapOptions(cluster, cfg, &out)
		o.DryRun = true
		if err := bootstrap.Run(ctx, o); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"StatefulSet/argocd/argocd-application-controller", "Application/argocd/spark-platform", "Secret/minio/minio-root", "Secret/spark-jobs/minio-root", "Secret/argocd/gen-repository"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("dry run does not list %s", want)
			}
		}
		if strings.Contains(out.String(), testToken) {
			t.Error("dry run printed the token")
		}
		nothingApplied(t)
	})
}

// TestBootstrapOfflineInstallFile uses --argocd-manifests with a local copy
// of the install, the air-gapped path, with a config whose upstream URL is
// unreachable.
func TestBootstrapOfflineInstallFile(t *testing.T) {
	cluster := testcluster.Start(t)
	dir, err := upstreamtest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	cfg := upstreamtest.ConfigFor("http://127.0.0.1:1/unreachable", "http://127.0.0.1:1/unreachable")
	var out bytes.Buffer
	o := bootstrapOptions(cluster, cfg, &out)
	o.ArgoCDManifests = filepath.Join(dir, "argo-cd", "v"+upstreamtest.ArgoCDVersion, "install.yaml")
	if err := bootstrap.Run(context.Background(), o); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
	cm, err := cs.CoreV1().ConfigMaps("argocd").Get(context.Background(), "argocd-cm", metav1.GetOptions{})
	if err != nil || !strings.Contains(cm.Data["resource.customizations.health.argoproj.io_Application"], "obj.status.health") {
		t.Fatalf("argocd-cm lacks gen's patch: %v", err)
	}
}
