//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/rdspark/gen/bootstrap"
	"github.com/rdspark/gen/cmd/gen/app"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// lifecyclePoll is the controller's reconciliation timeout in
// TestPlatformLifecycle: how long a commit waits for Argo CD when nobody
// asks for a refresh. Argo CD's default is 120 s (plus jitter); 60 s keeps
// the test shorter while leaving room for gen sync on a busy 2-core machine
// (a refresh of all 8 Applications took 23 s there with Argo CD 3.2.11).
const lifecyclePoll = 60 * time.Second

// TestPlatformLifecycle runs what a user meets in the first weeks, end to
// end, against a real Argo CD built at the default pin (ArgoCDVersion):
//
//  1. bootstrap at an older Argo CD (upstreamtest.OlderArgoCDVersion), then
//     upgrade Argo CD through Git: argocd.version in gen.yaml, gen render,
//     commit, gen sync; the self-managed argocd Application applies the new
//     install (CRDs and Deployments, server-side) with no field conflicts.
//     The controller processes stay those built for the pin: what is proven
//     is that Argo CD applies its own new manifests without error.
//  2. a Spark Operator change through Git that changes a Deployment and its
//     RBAC (one more job namespace, more controller workers), with gen sync.
//  3. the same small commit with gen sync and without it (live only after
//     the poll interval): both times are logged as figures (BENCHMARKS.md).
//  4. gen teardown while Argo CD runs (the cascade path): what goes, what
//     stays (MinIO's namespace, volume claim and credentials), then gen
//     bootstrap again converges with the same MinIO credentials.
func TestPlatformLifecycle(t *testing.T) {
	RequireE2E(t)
	env := Start(t)
	ctx := context.Background()
	repo := env.Git.NewRepo(t, "platform")
	older, pinned := upstreamtest.OlderArgoCDVersion, strings.TrimPrefix(ArgoCDVersion, "v")

	argoBase, sparkBase := upstreamtest.BaseURLs(env.UpstreamURL)
	cfg := upstreamtest.ConfigFor(argoBase, sparkBase)
	cfg.Spec.Git = config.Git{RepoURL: repo.URL, Revision: repo.Branch, Path: "."}
	cfg.Spec.ArgoCD.Version = older
	first := render(t, repo, cfg, "platform: first render, Argo CD "+older)

	var out bytes.Buffer
	if err := bootstrap.Run(ctx, lifecycleBootstrap(t, env, cfg, repo, &out)); err != nil {
		t.Fatalf("gen bootstrap: %v\n%s", err, out.String())
	}
	waitAllSynced(t, env, first, 4*time.Minute)
	assertArgoCDInstall(t, env, older)

	// 1. Upgrade Argo CD through Git.
	upgraded := cfg
	upgraded.Spec.ArgoCD.Version = pinned
	second := render(t, repo, upgraded, "platform: Argo CD "+older+" -> "+pinned)
	took := genSync(t, env, repo, "")
	t.Logf("figure: Argo CD %s -> %s: commit -> gen sync done (every Application Synced and Healthy at %.8s) in %s", older, pinned, second, took.Round(100*time.Millisecond))
	assertAllAt(t, env, second)
	assertArgoCDInstall(t, env, pinned)
	assertSyncClean(t, env, "argocd")

	// 2. A Spark Operator change that touches its Deployment and its RBAC.
	operator := upgraded
	operator.Spec.SparkOperator.JobNamespaces = append(slices.Clone(operator.Spec.SparkOperator.JobNamespaces), "analytics")
	operator = withWorkers(operator, upgraded.Spec.SparkOperator.ControllerWorkers+6)
	third := render(t, repo, operator, "platform: analytics job namespace, more operator workers")
	syncTook := genSync(t, env, repo, "")
	t.Logf("figure: commit (job namespace + workers: Deployment, RBAC, AppProject) -> gen sync done (every Application Synced and Healthy at %.8s) in %s", third, syncTook.Round(100*time.Millisecond))
	assertAllAt(t, env, third)
	assertOperatorChange(t, env, operator)
	assertSyncClean(t, env, "spark-operator")
	assertSyncClean(t, env, "spark-jobs")

	// 3. The same small commit twice (one more operator worker, a change to
	// one Deployment): with gen sync, then without, when Argo CD notices it
	// at its next poll. (The change above takes longer: its Applications
	// first fail on the AppProject, which the root updates in the same
	// commit, and retry after Argo CD's 10 s backoff.)
	synced := operator
	synced = withWorkers(synced, synced.Spec.SparkOperator.ControllerWorkers+1)
	rev := render(t, repo, synced, "platform: one more operator worker, gen sync")
	syncTook = genSync(t, env, repo, "")
	t.Logf("figure: commit (one Deployment changed) -> gen sync done (every Application Synced and Healthy at %.8s) in %s", rev, syncTook.Round(100*time.Millisecond))
	assertAllAt(t, env, rev)
	assertOperatorChange(t, env, synced)
	polled := synced
	polled = withWorkers(polled, polled.Spec.SparkOperator.ControllerWorkers+1)
	fourth := render(t, repo, polled, "platform: one more operator worker, no gen sync")
	committed := time.Now()
	pollTook := waitAllSynced(t, env, fourth, lifecyclePoll+3*time.Minute)
	t.Logf("figure: commit (one Deployment changed) -> every Application Synced and Healthy at %.8s without gen sync (reconciliation timeout %s): %s", fourth, lifecyclePoll, time.Since(committed).Round(100*time.Millisecond))
	assertOperatorChange(t, env, polled)
	// What gen sync is for: the change is live before the poll would even
	// have looked. Both figures are from this run on this machine.
	if syncTook >= lifecyclePoll {
		t.Errorf("gen sync took %s, not less than the poll interval %s it is meant to beat", syncTook, lifecyclePoll)
	}
	if syncTook >= pollTook {
		t.Errorf("gen sync (%s) was not faster than waiting for the poll (%s)", syncTook, pollTook)
	}

	// 4. gen teardown while Argo CD runs, then bootstrap again.
	// The copies bootstrap made: a job namespace added later through Git
	// (analytics) has none until gen bootstrap runs again.
	copied := append([]string{"minio", "spark-history"}, cfg.AllJobNamespaces()...)
	secretsBefore := credentials(t, env, polled, copied)
	kubelet := stopArgoCDWithItsWorkloads(t, env)
	began := time.Now()
	stderr := runGen(t, env, repo, "teardown", "--timeout", "5m")
	t.Logf("figure: gen teardown with Argo CD running: %s\n%s", time.Since(began).Round(100*time.Millisecond), stderr)
	kubelet.stop()
	if !strings.Contains(stderr, "Argo CD deletes what it synced") {
		t.Errorf("gen teardown did not take the cascade path (Argo CD running):\n%s", stderr)
	}
	assertTornDown(t, env, polled)

	out.Reset()
	env.Redis = StartRedis(t) // argocd-redis went with the argocd namespace
	again := lifecycleBootstrap(t, env, polled, repo, &out)
	began = time.Now()
	if err := bootstrap.Run(ctx, again); err != nil {
		t.Fatalf("gen bootstrap after gen teardown: %v\n%s", err, out.String())
	}
	t.Logf("gen bootstrap after gen teardown returned in %s:\n%s", time.Since(began).Round(100*time.Millisecond), out.String())
	// What the README says to run after gen bootstrap. Its wait asks Argo
	// CD to look again at an Application whose health waits on a CRD that
	// is Established (sync.CRDHealthNudger), which it otherwise sees only
	// at its next periodic reconciliation.
	stderr = runGen(t, env, repo, "status", "--wait", "--timeout", "4m")
	t.Logf("figure: gen bootstrap after gen teardown -> gen status --wait done: %s\n%s", time.Since(began).Round(100*time.Millisecond), stderr)
	assertAllAt(t, env, fourth)
	if diff := cmp.Diff(secretsBefore, credentials(t, env, polled, copied)); diff != "" {
		t.Errorf("MinIO credentials changed across gen teardown and gen bootstrap (-before +after):\n%s", diff)
	}
	all := credentials(t, env, polled, append([]string{"minio", "spark-history"}, polled.AllJobNamespaces()...))
	for ns, data := range all {
		if !cmp.Equal(data, all["minio"]) {
			t.Errorf("the credentials Secret in %s differs from MinIO's own", ns)
		}
	}
}

// lifecycleBootstrap is gen bootstrap's options for cfg and repo, starting
// Argo CD's processes once its configuration is in the cluster.
func lifecycleBootstrap(t *testing.T, env *Env, cfg config.Platform, repo *GitRepo, out *bytes.Buffer) bootstrap.Options {
	return bootstrap.Options{
		Config: cfg, Environment: "rancher-desktop", RESTConfig: env.RestConfig,
		RepoURL: repo.URL, Revision: repo.Branch,
		ArgoCDManifests: env.UpstreamURL + ArgoCDInstallPath(cfg.Spec.ArgoCD.Version),
		Wait:            true, Timeout: 2 * time.Minute, Out: out,
		AfterStep: func(step string) error {
			if step == bootstrap.StepArgoCD {
				env.StartArgoCD(t, ArgoCDOptions{ReconciliationTimeout: lifecyclePoll})
			}
			return nil
		},
	}
}

// runGen runs the gen CLI in-process against the test cluster with the
// repository's gen.yaml and returns its stderr; it fails the test on error.
func runGen(t *testing.T, env *Env, repo *GitRepo, args ...string) string {
	t.Helper()
	args = append(args, "-c", filepath.Join(repo.WorkDir, "gen.yaml"),
		"--kubeconfig", env.Cluster.KubeconfigPath(), "--context", "testcluster")
	var stdout, stderr bytes.Buffer
	if err := app.Run(args, app.Streams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr}); err != nil {
		t.Fatalf("gen %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stderr.String()
}

// genSync runs gen sync for the repository's checkout (its default
// revision: the pushed head of the tracked branch, or revision) and returns
// how long it took.
func genSync(t *testing.T, env *Env, repo *GitRepo, revision string) time.Duration {
	t.Helper()
	args := []string{"sync", "--repo", repo.WorkDir, "--timeout", "4m"}
	if revision != "" {
		args = append(args, "--revision", revision)
	}
	start := time.Now()
	stderr := runGen(t, env, repo, args...)
	took := time.Since(start)
	t.Logf("gen sync:\n%s", stderr)
	return took
}

// assertAllAt: gen sync returned, so every Application must already be
// Synced and Healthy at rev; read them again, independently of gen sync.
func assertAllAt(t *testing.T, env *Env, rev string) {
	t.Helper()
	for _, name := range platformApps(t, config.Default()) {
		st, err := env.AppState(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if !st.SyncedHealthy(rev) {
			t.Errorf("after gen sync, Application %s: %s, want Synced and Healthy at %.8s", name, st, rev)
		}
	}
}

// assertArgoCDInstall: Argo CD's workloads run the images of version, and
// its CRDs are those of the install.yaml of version, field for field.
func assertArgoCDInstall(t *testing.T, env *Env, version string) {
	t.Helper()
	ctx := context.Background()
	want := "quay.io/argoproj/argocd:v" + version
	sts, err := env.Client.AppsV1().StatefulSets(ArgoCDNamespace).Get(ctx, "argocd-application-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	images := map[string]string{"StatefulSet/argocd-application-controller": sts.Spec.Template.Spec.Containers[0].Image}
	for _, name := range []string{"argocd-repo-server", "argocd-server"} {
		dep, err := env.Client.AppsV1().Deployments(ArgoCDNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		images["Deployment/"+name] = dep.Spec.Template.Spec.Containers[0].Image
	}
	for ref, got := range images {
		if got != want {
			t.Errorf("%s runs %s, want %s", ref, got, want)
		}
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	n := 0
	for _, o := range InstallManifests(t, env.UpstreamURL+ArgoCDInstallPath(version)) {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		live, err := env.Dynamic.Resource(crds).Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantVersions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
		gotVersions, _, _ := unstructured.NestedSlice(live.Object, "spec", "versions")
		if diff := cmp.Diff(roundTrip(t, wantVersions), roundTrip(t, gotVersions)); diff != "" {
			t.Errorf("CRD %s is not the one of Argo CD %s (-install.yaml +live):\n%.3000s", o.GetName(), version, diff)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("the install.yaml of Argo CD %s has no CRDs", version)
	}
}

// roundTrip normalizes v through JSON (int64 against float64 and the like).
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertSyncClean: the Application's last sync succeeded and every resource
// in it was applied (no field-manager conflict, no failed apply).
func assertSyncClean(t *testing.T, env *Env, name string) {
	t.Helper()
	a, err := env.Dynamic.Resource(ApplicationGVR).Namespace(ArgoCDNamespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	phase, _, _ := unstructured.NestedString(a.Object, "status", "operationState", "phase")
	msg, _, _ := unstructured.NestedString(a.Object, "status", "operationState", "message")
	if phase != "Succeeded" {
		t.Errorf("Application %s: last sync %s: %s", name, phase, msg)
	}
	res, _, _ := unstructured.NestedSlice(a.Object, "status", "operationState", "syncResult", "resources")
	for _, r := range res {
		m, _ := r.(map[string]any)
		status, _ := m["status"].(string)
		message, _ := m["message"].(string)
		if status != "Synced" || strings.Contains(strings.ToLower(message), "conflict") {
			t.Errorf("Application %s: %v/%v/%v: %s: %s", name, m["kind"], m["namespace"], m["name"], status, message)
		}
	}
	if len(res) == 0 {
		t.Errorf("Application %s: no resources in its last sync result", name)
	}
	for _, c := range (appStateOf(a)).Conditions {
		t.Errorf("Application %s: condition %s", name, c)
	}
}

// assertOperatorChange: the operator's Deployment and the job namespaces'
// RBAC are what cfg renders.
func assertOperatorChange(t *testing.T, env *Env, cfg config.Platform) {
	t.Helper()
	ctx := context.Background()
	dep, err := env.Client.AppsV1().Deployments("spark-operator").Get(ctx, "spark-operator-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	args := dep.Spec.Template.Spec.Containers[0].Args
	o := cfg.Spec.SparkOperator
	for _, want := range []string{
		fmt.Sprintf("--controller-threads=%d", o.ControllerWorkers),
		"--namespaces=" + strings.Join(cfg.AllJobNamespaces(), ","),
	} {
		if !slices.Contains(args, want) {
			t.Errorf("spark-operator-controller args %q lack %q", args, want)
		}
	}
	// The operator's own RBAC in every job namespace (a Role and its
	// RoleBinding per namespace, the webhook's likewise).
	for _, ns := range o.JobNamespaces {
		for _, name := range []string{"spark-operator-controller", "spark-operator-webhook"} {
			if _, err := env.Client.RbacV1().Roles(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
				t.Errorf("Role %s/%s: %v", ns, name, err)
			}
			if _, err := env.Client.RbacV1().RoleBindings(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
				t.Errorf("RoleBinding %s/%s: %v", ns, name, err)
			}
		}
	}
}

// credentials are the MinIO credential Secrets' data in namespaces: the one
// bootstrap generated in MinIO's namespace and its copies.
func credentials(t *testing.T, env *Env, cfg config.Platform, namespaces []string) map[string]map[string][]byte {
	t.Helper()
	out := map[string]map[string][]byte{}
	for _, ns := range namespaces {
		s, err := env.Client.CoreV1().Secrets(ns).Get(context.Background(), cfg.Spec.MinIO.CredentialsSecret, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("MinIO credentials in %s: %v", ns, err)
		}
		if len(s.Data) == 0 {
			t.Fatalf("Secret %s/%s is empty", ns, s.Name)
		}
		out[ns] = s.Data
	}
	return out
}

// assertTornDown: without --purge, gen teardown leaves MinIO's namespace,
// its volume claim and the credentials Secret, and nothing else of the
// platform or of Argo CD.
func assertTornDown(t *testing.T, env *Env, cfg config.Platform) {
	t.Helper()
	ctx := context.Background()
	if _, err := env.Client.CoreV1().Namespaces().Get(ctx, "minio", metav1.GetOptions{}); err != nil {
		t.Errorf("namespace minio: %v, want kept", err)
	}
	pvcs, err := env.Client.CoreV1().PersistentVolumeClaims("minio").List(ctx, metav1.ListOptions{})
	if err != nil || len(pvcs.Items) == 0 {
		t.Errorf("MinIO's PersistentVolumeClaim: %v (%d claims), want kept", err, len(pvcs.Items))
	}
	if _, err := env.Client.CoreV1().Secrets("minio").Get(ctx, cfg.Spec.MinIO.CredentialsSecret, metav1.GetOptions{}); err != nil {
		t.Errorf("Secret minio/%s: %v, want kept", cfg.Spec.MinIO.CredentialsSecret, err)
	}
	gone := func(what string, err error) {
		if !apierrors.IsNotFound(err) {
			t.Errorf("%s after gen teardown: %v, want NotFound", what, err)
		}
	}
	_, err = env.Client.AppsV1().Deployments("minio").Get(ctx, "minio", metav1.GetOptions{})
	gone("Deployment minio/minio", err)
	for _, ns := range append([]string{ArgoCDNamespace, "spark-operator", "spark-history"}, cfg.AllJobNamespaces()...) {
		_, err := env.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		gone("namespace "+ns, err)
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, name := range []string{"applications.argoproj.io", "appprojects.argoproj.io", "sparkapplications.sparkoperator.k8s.io"} {
		_, err := env.Dynamic.Resource(crds).Get(ctx, name, metav1.GetOptions{})
		gone("CRD "+name, err)
	}
	for _, name := range []string{"spark-operator-controller", "spark-operator-webhook"} {
		_, err := env.Client.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		gone("ClusterRole "+name, err)
	}
}

// argoCDKubelet stops Argo CD's local processes once their workloads are
// deleted, as the kubelet stops a pod whose StatefulSet or Deployment goes:
// without it, the processes here would outlive their own uninstall, and
// gen teardown would be tested against an Argo CD that cannot exist.
type argoCDKubelet struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func (k *argoCDKubelet) stop() { k.cancel(); k.done.Wait() }

func stopArgoCDWithItsWorkloads(t *testing.T, env *Env) *argoCDKubelet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	k := &argoCDKubelet{cancel: cancel}
	t.Cleanup(k.stop)
	a := env.ArgoCD
	watch := func(get func() (metav1.Object, error), p *Process) {
		defer k.done.Done()
		for ctx.Err() == nil {
			obj, err := get()
			if apierrors.IsNotFound(err) || (err == nil && obj.GetDeletionTimestamp() != nil) {
				t.Logf("%s: its workload was deleted, stopping it (as the kubelet would)", p.Name)
				p.Stop()
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	k.done.Add(2)
	go watch(func() (metav1.Object, error) {
		return env.Client.AppsV1().StatefulSets(ArgoCDNamespace).Get(ctx, "argocd-application-controller", metav1.GetOptions{})
	}, a.Controller)
	go watch(func() (metav1.Object, error) {
		return env.Client.AppsV1().Deployments(ArgoCDNamespace).Get(ctx, "argocd-repo-server", metav1.GetOptions{})
	}, a.RepoServer)
	return k
}

// withWorkers is cfg with n operator workers and the memory limit gen asks
// for them (config.MinControllerMemory: each worker may run a spark-submit
// JVM in the controller's container), in the base and in every
// environment. It copies what it changes, so earlier configs stay as they are.
func withWorkers(cfg config.Platform, n int) config.Platform {
	memory := config.Quantity(func() string { q := config.MinControllerMemory(n); return q.String() }())
	cfg.Spec.SparkOperator.ControllerWorkers = n
	cfg.Spec.SparkOperator.Resources.Limits.Memory = memory
	cfg.Spec.Environments = slices.Clone(cfg.Spec.Environments)
	for i := range cfg.Spec.Environments {
		env := &cfg.Spec.Environments[i]
		r := env.Resources.SparkOperator
		if r == nil && env.Name == config.DefaultEnvironment().Name {
			r = config.DefaultEnvironment().Resources.SparkOperator
		}
		if r != nil {
			limited := *r
			limited.Limits.Memory = memory
			env.Resources.SparkOperator = &limited
		}
	}
	return cfg
}
