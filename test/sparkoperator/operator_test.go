//go:build linux

package sparkoperator

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/kustomize"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/sparkoperator"
	"github.com/rdspark/gen/internal/testcache"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/testnetns"
	"github.com/rdspark/gen/internal/testproc"
	"github.com/rdspark/gen/internal/testtree"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// operatorVersion is the release hack/sparkoperator/build.sh builds; it names
// the cache folder. The test fails when the config's default pin moves away
// from it, so the binary under test is always the release the tree deploys.
const operatorVersion = "v2.5.2"

// Facts of the operator v2.5.2 (cmd/operator/*/start.go, pkg/common), which
// the rendered objects rely on without spelling them out.
const (
	// defaultHealthProbeAddress is --health-probe-bind-address's default:
	// the rendered args do not pass it, so the probes must name its port.
	defaultHealthProbeAddress = ":8081"
	// defaultWebhookCertDir is --webhook-cert-dir's default: the rendered
	// args do not pass it, so the webhook Deployment must mount a writable
	// volume there (its root file system is read-only).
	defaultWebhookCertDir = "/etc/k8s-webhook-server/serving-certs"
	// caCertKey is where the webhook keeps its CA in its Secret.
	caCertKey = "ca-cert.pem"
	// Labels and container name of a driver pod, as spark-submit creates it.
	labelLaunchedByOperator = "sparkoperator.k8s.io/launched-by-spark-operator"
	labelAppName            = "sparkoperator.k8s.io/app-name"
	labelSparkRole          = "spark-role"
	driverContainer         = "spark-kubernetes-driver"
)

// waitTimeout bounds each wait on the operator; it starts in seconds on an
// idle machine, the margin is for 2 busy cores.
const waitTimeout = time.Minute

// eventSettle is how long the last events of a run get to reach the API
// server (client-go's event broadcaster sends them asynchronously) before
// the logs are searched for refusals.
const eventSettle = 2 * time.Second

var (
	sparkApplications          = schema.GroupVersionResource{Group: sparkoperator.Group, Version: "v1beta2", Resource: "sparkapplications"}
	scheduledSparkApplications = schema.GroupVersionResource{Group: sparkoperator.Group, Version: "v1beta2", Resource: "scheduledsparkapplications"}
)

// TestSparkOperatorReal runs the operator as rendered and fails on any
// finding.
func TestSparkOperatorReal(t *testing.T) {
	bin := operatorBinary(t)
	for name, src := range map[string]string{
		"default": "",
		// Two tenants: their namespaces join the operator's --namespaces,
		// so its caches list and watch there, through the tenants' Roles.
		"tenants": tenantsConfig,
	} {
		t.Run(name, func(t *testing.T) {
			for _, f := range run(t, bin, renderTree(t, src)) {
				t.Error(f)
			}
		})
	}
}

// tenantsConfig is a gen.yaml with two tenants, one with its own quota.
const tenantsConfig = `apiVersion: gen.rdspark.dev/v1alpha1
kind: Platform
spec:
  tenants:
  - name: team-a
  - name: team-b
    quota: {cpu: "2", memory: 8Gi, pods: 20, sparkApplications: 5}
`

// TestSparkOperatorNegativeControl drops one rule at a time from gen's
// rendered Roles and requires the same run to report it, naming the
// resource: a test that passes with a rule missing could not catch a missing
// permission at all. The controller's right to record a SparkApplication's
// state in the job namespace, the webhook's right to create its certificate
// Secret, and the controller's right to list pods in a tenant's namespace.
func TestSparkOperatorNegativeControl(t *testing.T) {
	bin := operatorBinary(t)
	for _, tc := range []struct {
		config, role, namespace, resource string
	}{
		// namespace "" is the job namespace of the example.
		{"", "controller", "", "sparkapplications/status"},
		{"", "webhook", "spark-operator", "secrets"},
		// A tenant namespace: the controller's cache lists pods there.
		{tenantsConfig, "controller", "team-b", "pods"},
	} {
		t.Run(tc.role+"/"+cmp.Or(tc.namespace, "jobs")+"/"+tc.resource, func(t *testing.T) {
			tr := renderTree(t, tc.config)
			d := deploymentRunning(t, tr.objs, tc.role)
			ns := cmp.Or(tc.namespace, tr.jobNamespace(t))
			role, dropped := dropRule(t, tr.objs, ns, d.Spec.Template.Spec.ServiceAccountName, tc.resource)
			t.Logf("dropped from Role %s/%s: %s", ns, role, dropped)

			findings := run(t, bin, tr)
			var named []string
			for _, f := range findings {
				// The API server's message quotes the resource; the
				// operator's JSON log escapes those quotes.
				quoted := strings.Contains(f, `"`+tc.resource+`"`) || strings.Contains(f, `\"`+tc.resource+`\"`)
				if quoted && strings.Contains(strings.ToLower(f), "forbidden") {
					named = append(named, f)
				}
			}
			if len(named) == 0 {
				t.Errorf("with %s dropped from Role %s/%s the run reported nothing forbidden on %q; all findings:\n%s",
					dropped, ns, role, tc.resource, strings.Join(findings, "\n"))
			} else {
				t.Logf("the run failed as it must, naming the resource:\n%s", strings.Join(named, "\n"))
			}
		})
	}
}

// operatorBinary is the spark-operator hack/sparkoperator/build.sh builds.
// Under -short it skips the test: TestMain made no private network
// namespace then, and nothing here may run outside one.
func operatorBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the Spark Operator on a control plane in a private network namespace; skipped under -short")
	}
	if !testnetns.Active() {
		t.Fatal("not in the private network namespace TestMain makes (testnetns.Main)")
	}
	bin := testcache.Dir("spark-operator-"+operatorVersion, "bin", "spark-operator")
	if info, err := os.Stat(bin); err != nil || info.Mode().Perm()&0o111 == 0 {
		msg := fmt.Sprintf("no spark-operator %s at %s (%v).\nBuild it once (about 10 minutes cold, cached afterwards) from the repository root with:\n\n"+
			"    hack/sparkoperator/build.sh\n\nor run only the unit tests with: go test -short ./...", operatorVersion, bin, err)
		if testing.Short() {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return bin
}

// renderedTree is what the test applies: the rancher-desktop overlay's
// namespaces, Spark Operator CRDs, the operator and the job namespaces'
// objects, built with krusty from the tree gen renders; and the examples.
type renderedTree struct {
	objs     []*unstructured.Unstructured
	examples []*unstructured.Unstructured
}

// renderTree renders src (a gen.yaml; "" for the built-in defaults).
func renderTree(t *testing.T, src string) renderedTree {
	t.Helper()
	cfg := upstreamtest.Config(t)
	if src != "" {
		loaded, err := config.Load("gen.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		loaded.Spec.ArgoCD.ManifestsBaseURL, loaded.Spec.SparkOperator.CRDBaseURL = cfg.Spec.ArgoCD.ManifestsBaseURL, cfg.Spec.SparkOperator.CRDBaseURL
		cfg = loaded
	}
	if v := "v" + strings.TrimPrefix(cfg.Spec.SparkOperator.Version, "v"); v != operatorVersion {
		t.Fatalf("the config pins Spark Operator %s, the test builds and runs %s: update operatorVersion here and VERSION in hack/sparkoperator/build.sh", v, operatorVersion)
	}
	out := testtree.Write(t, cfg)
	var tr renderedTree
	env := cfg.EnvironmentNames()[0]
	for _, folder := range []string{"namespaces", "spark-crds", sparkoperator.Name, "spark-jobs", "tenants"} {
		dir := filepath.Join(out, generator.OverlaysDir, env, folder)
		if _, err := os.Stat(dir); folder == "tenants" && os.IsNotExist(err) {
			continue // rendered only when there are tenants
		}
		objs, err := kustomize.BuildFS(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			// A tenant's AppProject is Argo CD's; Argo CD is not installed
			// here (test/integration applies those with it).
			if strings.HasPrefix(o.GetAPIVersion(), "argoproj.io/") {
				continue
			}
			tr.objs = append(tr.objs, o)
		}
	}
	entries, err := os.ReadDir(filepath.Join(out, generator.ExamplesDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(out, generator.ExamplesDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		objs, err := kube.DecodeYAML(b)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		tr.examples = append(tr.examples, objs...)
	}
	return tr
}

// exampleApp is the example SparkApplication of examples/.
func (tr renderedTree) exampleApp(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	for _, o := range tr.examples {
		if o.GetKind() == "SparkApplication" {
			return o
		}
	}
	t.Fatal("examples/ has no SparkApplication")
	return nil
}

func (tr renderedTree) jobNamespace(t *testing.T) string { return tr.exampleApp(t).GetNamespace() }

// deploymentRunning is the rendered operator Deployment whose container runs
// `<role> start`.
func deploymentRunning(t *testing.T, objs []*unstructured.Unstructured, role string) *appsv1.Deployment {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		d := convert[appsv1.Deployment](t, o)
		if c := d.Spec.Template.Spec.Containers; len(c) == 1 && len(c[0].Args) >= 2 && c[0].Args[0] == role && c[0].Args[1] == "start" {
			return d
		}
	}
	t.Fatalf("the rendered tree has no Deployment running `spark-operator %s start`", role)
	return nil
}

func convert[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	var v T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &v); err != nil {
		t.Fatalf("%s: %v", kube.Ref(o), err)
	}
	return &v
}

// dropRule removes from the Role in ns bound to the ServiceAccount sa the
// first rule that covers resource, in place, and says which.
func dropRule(t *testing.T, objs []*unstructured.Unstructured, ns, sa, resource string) (role, dropped string) {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() != "RoleBinding" || o.GetNamespace() != ns {
			continue
		}
		rb := convert[rbacv1.RoleBinding](t, o)
		if !slices.ContainsFunc(rb.Subjects, func(s rbacv1.Subject) bool { return s.Kind == "ServiceAccount" && s.Name == sa }) {
			continue
		}
		for _, r := range objs {
			if r.GetKind() != "Role" || r.GetNamespace() != ns || r.GetName() != rb.RoleRef.Name {
				continue
			}
			rules, _, _ := unstructured.NestedSlice(r.Object, "rules")
			for i, rule := range rules {
				res, _, _ := unstructured.NestedStringSlice(rule.(map[string]any), "resources")
				if slices.Contains(res, resource) {
					verbs, _, _ := unstructured.NestedStringSlice(rule.(map[string]any), "verbs")
					_ = unstructured.SetNestedSlice(r.Object, slices.Delete(rules, i, i+1), "rules")
					return r.GetName(), fmt.Sprintf("the rule on %v (%s)", res, strings.Join(verbs, ", "))
				}
			}
		}
	}
	t.Fatalf("no Role in %s bound to ServiceAccount %s has a rule on %s", ns, sa, resource)
	return "", ""
}

// findings collects what the operator did wrong, so that the negative
// control can require a finding instead of failing.
type findings []string

func (f *findings) add(format string, args ...any) { *f = append(*f, fmt.Sprintf(format, args...)) }

// platform is a fresh control plane with the rendered tree applied, its
// kinds served, and the operator's two Deployments picked out, the webhook's
// Service routed to an address inside the test's network namespace.
type platform struct {
	cluster             *testcluster.Cluster
	cs                  kubernetes.Interface
	dyn                 dynamic.Interface
	applier             *kube.Applier
	webhook, controller *appsv1.Deployment
}

func startPlatform(ctx context.Context, t *testing.T, tr renderedTree) platform {
	t.Helper()
	p := platform{cluster: testcluster.Start(t)}
	admin := p.cluster.RestConfig()
	p.cs = kubernetes.NewForConfigOrDie(admin)
	p.dyn = dynamic.NewForConfigOrDie(admin)
	var err error
	if p.applier, err = kube.NewApplier(admin); err != nil {
		t.Fatal(err)
	}
	if _, err := p.applier.ApplyStaged(ctx, tr.objs, kube.Options{}, 1); err != nil {
		t.Fatalf("apply the rendered tree: %v", err)
	}
	waitDiscovery(t, p.cs, tr.objs)
	p.webhook = deploymentRunning(t, tr.objs, "webhook")
	p.controller = deploymentRunning(t, tr.objs, "controller")
	routeServices(ctx, t, p.cs, tr.objs, p.webhook)
	return p
}

// run applies the tree to a fresh control plane, runs the webhook, checks
// admission, runs the controller, and returns what went wrong. Failures of
// the test's own machinery (the cluster, applying the tree) stop the test.
func run(t *testing.T, bin string, tr renderedTree) (f findings) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	p := startPlatform(ctx, t, tr)
	cluster, cs, dyn, applier := p.cluster, p.cs, p.dyn, p.applier
	webhookDep, controllerDep := p.webhook, p.controller

	// Whatever happens below, both logs are searched for "forbidden" at
	// the end: a missing permission often shows only there (an informer
	// retrying its list, an event the API server rejected).
	var started []*operator
	defer func() {
		// Events are sent in the background (a refused one is logged a
		// moment after the action that caused it): let them through.
		time.Sleep(eventSettle)
		for _, p := range started {
			if exited, err := p.proc.Exited(); exited {
				f.add("%s exited while the test was running (%s)", p.name, testproc.DescribeExit(err))
			}
			var lines []string
			for _, line := range p.logLines(t) {
				if strings.Contains(strings.ToLower(line), "forbidden") {
					lines = append(lines, line)
				}
			}
			// A controller retrying a forbidden call logs it again and
			// again; the first few say it all.
			for i, line := range lines {
				if i == 3 {
					f.add("%s log: %d more lines with forbidden", p.name, len(lines)-i)
					break
				}
				f.add("%s log: %s", p.name, line)
			}
		}
	}()

	// The webhook first: its configurations are registered with
	// failurePolicy Fail, so nothing in the job namespace can be created
	// until it serves.
	began := time.Now()
	webhook := startOperator(ctx, t, bin, cluster, cs, webhookDep, nil)
	started = append(started, webhook)
	webhookArgs := webhook.args
	if !webhook.waitReady(ctx, &f) {
		return f
	}
	secretNS := flagValue(webhookArgs, "webhook-secret-namespace", "")
	secretName := flagValue(webhookArgs, "webhook-secret-name", "")
	var ca []byte
	waitFor(ctx, &f, fmt.Sprintf("webhook Secret %s/%s with %s", secretNS, secretName, caCertKey), func() (bool, string) {
		s, err := cs.CoreV1().Secrets(secretNS).Get(ctx, secretName, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		ca = s.Data[caCertKey]
		return len(ca) > 0, fmt.Sprintf("keys %v", mapsKeys(s.Data))
	}, webhook)
	if len(ca) == 0 {
		return f
	}
	mutating := flagValue(webhookArgs, "mutating-webhook-name", "")
	validating := flagValue(webhookArgs, "validating-webhook-name", "")
	waitFor(ctx, &f, "the webhook's CA in every caBundle of MutatingWebhookConfiguration "+mutating+" and ValidatingWebhookConfiguration "+validating, func() (bool, string) {
		m, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, mutating, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		v, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, validating, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		var missing []string
		for _, w := range m.Webhooks {
			if string(w.ClientConfig.CABundle) != string(ca) {
				missing = append(missing, w.Name)
			}
		}
		for _, w := range v.Webhooks {
			if string(w.ClientConfig.CABundle) != string(ca) {
				missing = append(missing, w.Name)
			}
		}
		return len(missing) == 0 && len(m.Webhooks) > 0 && len(v.Webhooks) > 0, fmt.Sprintf("no CA yet in %v", missing)
	}, webhook)
	t.Logf("webhook ready (readyz, Secret, both caBundles) %s after its start", time.Since(began).Round(time.Millisecond))
	waitLease(ctx, &f, cs, webhook)

	// The API server calls the webhook for a SparkApplication: the
	// validating webhook denies what only its code checks (dry run, nothing
	// is stored), and the mutating one fills a default the CRD has none for.
	app := tr.exampleApp(t)
	denied := app.DeepCopy()
	denied.SetName(app.GetName() + "-denied")
	_ = unstructured.SetNestedStringMap(denied.Object, map[string]string{"disk": "ssd"}, "spec", "nodeSelector")
	_ = unstructured.SetNestedStringMap(denied.Object, map[string]string{"disk": "ssd"}, "spec", "driver", "nodeSelector")
	_, err := dyn.Resource(sparkApplications).Namespace(app.GetNamespace()).Create(ctx, denied, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if hook := webhookFor(t, tr.objs, "ValidatingWebhookConfiguration", "sparkapplications"); err == nil ||
		!strings.Contains(err.Error(), fmt.Sprintf("admission webhook %q denied the request", hook)) {
		f.add("a SparkApplication with a node selector on both the application and its driver: want a denial by admission webhook %q, got %v", hook, err)
	}
	defaulted := app.DeepCopy()
	defaulted.SetName(app.GetName() + "-defaulted")
	unstructured.RemoveNestedField(defaulted.Object, "spec", "executor", "instances")
	got, err := dyn.Resource(sparkApplications).Namespace(app.GetNamespace()).Create(ctx, defaulted, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		f.add("dry-run create of a SparkApplication without spec.executor.instances: %v", err)
	} else if n, ok, _ := unstructured.NestedInt64(got.Object, "spec", "executor", "instances"); !ok || n != 1 {
		f.add("a SparkApplication without spec.executor.instances was not defaulted by the mutating webhook %q (instances: %v, set: %v)",
			webhookFor(t, tr.objs, "MutatingWebhookConfiguration", "sparkapplications"), n, ok)
	}

	// The example itself, as a user applies it.
	if _, err := applier.ApplyStaged(ctx, tr.examples, kube.Options{}, 1); err != nil {
		f.add("apply examples/: %v", err)
		return f
	}
	created, err := dyn.Resource(sparkApplications).Namespace(app.GetNamespace()).Get(ctx, app.GetName(), metav1.GetOptions{})
	if err != nil {
		f.add("get the example SparkApplication: %v", err)
		return f
	}
	checkDriverPodMutated(ctx, t, &f, cs, created)

	// The controller, once the webhook works: it picks up the example.
	sparkHome := filepath.Join(t.TempDir(), "spark-home-without-spark")
	if err := os.MkdirAll(sparkHome, 0o755); err != nil {
		t.Fatal(err)
	}
	controllerBegan := time.Now()
	controller := startOperator(ctx, t, bin, cluster, cs, controllerDep, []string{
		// The operator's image (apache/spark) sets SPARK_HOME=/opt/spark and
		// ships spark-submit there. There is no Spark distribution here: an
		// empty folder stands in for /opt/spark, so the controller gets as
		// far as running bin/spark-submit, which is missing.
		"SPARK_HOME=" + sparkHome,
	})
	started = append(started, controller)
	if !controller.waitReady(ctx, &f) {
		return f
	}
	waitLease(ctx, &f, cs, controller)
	sparkSubmit := filepath.Join(sparkHome, "bin", "spark-submit")
	var state, message string
	waitFor(ctx, &f, "the example SparkApplication's state to record the submission failure", func() (bool, string) {
		a, err := dyn.Resource(sparkApplications).Namespace(app.GetNamespace()).Get(ctx, app.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		state, _, _ = unstructured.NestedString(a.Object, "status", "applicationState", "state")
		message, _, _ = unstructured.NestedString(a.Object, "status", "applicationState", "errorMessage")
		return (state == "SUBMISSION_FAILED" || state == "FAILED") && message != "", fmt.Sprintf("state %q, errorMessage %q", state, message)
	}, controller, webhook)
	if message != "" {
		t.Logf("controller: the example SparkApplication %s %s after the controller's start: %s", state, time.Since(controllerBegan).Round(time.Millisecond), message)
	}
	if message != "" && !(strings.Contains(message, sparkSubmit) && strings.Contains(message, "no such file or directory")) {
		f.add("the example SparkApplication failed (%s) for another reason than the missing %s: %s", state, sparkSubmit, message)
	}
	// The scheduled example: the controller validates its schedule and
	// records the next run in its status.
	for _, o := range tr.examples {
		if o.GetKind() != "ScheduledSparkApplication" {
			continue
		}
		waitFor(ctx, &f, "ScheduledSparkApplication "+o.GetName()+" to be Scheduled", func() (bool, string) {
			a, err := dyn.Resource(scheduledSparkApplications).Namespace(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			st, _, _ := unstructured.NestedString(a.Object, "status", "scheduleState")
			next, _, _ := unstructured.NestedString(a.Object, "status", "nextRun")
			return st == "Scheduled" && next != "", fmt.Sprintf("scheduleState %q, nextRun %q", st, next)
		}, controller)
	}
	return f
}

// waitDiscovery waits until the API server's discovery serves every version
// of every applied CRD. Established comes first, discovery a moment later;
// the operator resolves its kinds through discovery once at start and exits
// when one is missing. (In a cluster, Argo CD's sync waves put seconds
// between the CRDs and the operator, and a crashed pod is restarted.)
func waitDiscovery(t *testing.T, cs kubernetes.Interface, objs []*unstructured.Unstructured) {
	t.Helper()
	want := map[string][]string{} // group version -> plural names
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(o.Object, "spec", "names", "plural")
		versions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
		for _, v := range versions {
			if served, _, _ := unstructured.NestedBool(v.(map[string]any), "served"); served {
				gv := group + "/" + v.(map[string]any)["name"].(string)
				want[gv] = append(want[gv], plural)
			}
		}
	}
	// Every resource of every version in one discovery answer (aggregated
	// discovery, as the operator's REST mapper reads it): a group version
	// is listed as soon as its first CRD is, before the others join it.
	deadline := time.Now().Add(waitTimeout)
	for {
		missing := missingResources(cs, want)
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("discovery does not serve %v", missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func missingResources(cs kubernetes.Interface, want map[string][]string) []string {
	_, lists, err := cs.Discovery().ServerGroupsAndResources()
	if err != nil {
		return []string{err.Error()}
	}
	served := map[string]bool{}
	for _, l := range lists {
		for _, r := range l.APIResources {
			served[l.GroupVersion+"/"+r.Name] = true
		}
	}
	var missing []string
	for gv, plurals := range want {
		for _, p := range plurals {
			if !served[gv+"/"+p] {
				missing = append(missing, gv+"/"+p)
			}
		}
	}
	slices.Sort(missing)
	return missing
}

// routeServices gives every rendered Service that selects the webhook's pods
// an EndpointSlice at webhookPodIP, the address the test's network namespace
// has on loopback, with each port resolved against the Deployment's container
// ports as the EndpointSlice controller would. (That controller needs a
// running pod on a Node; there is neither here. kube-apiserver's endpoint
// routing reads EndpointSlices only, so no Endpoints object is made.)
func routeServices(ctx context.Context, t *testing.T, cs kubernetes.Interface, objs []*unstructured.Unstructured, d *appsv1.Deployment) {
	t.Helper()
	podLabels := labels.Set(d.Spec.Template.Labels)
	routed := 0
	for _, o := range objs {
		if o.GetKind() != "Service" || o.GetNamespace() != d.Namespace {
			continue
		}
		svc := convert[corev1.Service](t, o)
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			continue
		}
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Name: svc.Name + "-test", Namespace: svc.Namespace,
				Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{webhookPodIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		}
		for _, sp := range svc.Spec.Ports {
			port := containerPort(t, d, sp.TargetPort.String())
			slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Port: ptr.To(port), Protocol: ptr.To(sp.Protocol)})
		}
		if _, err := cs.DiscoveryV1().EndpointSlices(svc.Namespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		routed++
	}
	if routed == 0 {
		t.Fatalf("no rendered Service in %s selects the pods of Deployment %s (labels %v)", d.Namespace, d.Name, podLabels)
	}
}

// containerPort resolves a Service targetPort (a number or a port name)
// against the Deployment's container.
func containerPort(t *testing.T, d *appsv1.Deployment, target string) int32 {
	t.Helper()
	if n, err := strconv.Atoi(target); err == nil {
		return int32(n)
	}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		if p.Name == target {
			return p.ContainerPort
		}
	}
	t.Fatalf("Deployment %s has no container port named %q (a Service's targetPort)", d.Name, target)
	return 0
}

// webhookFor names the webhook of the rendered configuration kind whose rules
// cover resource.
func webhookFor(t *testing.T, objs []*unstructured.Unstructured, kind, resource string) string {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() != kind {
			continue
		}
		hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
		for _, h := range hooks {
			rules, _, _ := unstructured.NestedSlice(h.(map[string]any), "rules")
			for _, r := range rules {
				res, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
				if slices.Contains(res, resource) {
					name, _, _ := unstructured.NestedString(h.(map[string]any), "name")
					return name
				}
			}
		}
	}
	t.Fatalf("no rendered %s has a webhook for %s", kind, resource)
	return ""
}

// checkDriverPodMutated creates a driver pod of app as spark-submit would
// (its labels, its container name, nothing from the application's driver
// spec) and requires what only the webhook adds from the SparkApplication:
// the owner reference, the driver's env and pod security context. The pod is
// deleted again (it never runs: there is no kubelet) before the controller
// starts, so it cannot confuse it.
func checkDriverPodMutated(ctx context.Context, t *testing.T, f *findings, cs kubernetes.Interface, app *unstructured.Unstructured) {
	t.Helper()
	image, _, _ := unstructured.NestedString(app.Object, "spec", "image")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: app.GetName() + "-driver", Namespace: app.GetNamespace(),
			Labels: map[string]string{labelLaunchedByOperator: "true", labelAppName: app.GetName(), labelSparkRole: "driver"},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: driverContainer, Image: image}}},
	}
	got, err := cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		f.add("create a driver pod of %s: %v", app.GetName(), err)
		return
	}
	defer func() {
		if err := cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
			t.Errorf("delete the driver pod: %v", err)
		}
	}()
	if !slices.ContainsFunc(got.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == app.GetUID() }) {
		f.add("driver pod %s/%s was not mutated by the webhook: no owner reference to SparkApplication %s (owners %v)", got.Namespace, got.Name, app.GetName(), got.OwnerReferences)
	}
	env, _, _ := unstructured.NestedSlice(app.Object, "spec", "driver", "env")
	for _, e := range env {
		name := e.(map[string]any)["name"].(string)
		if !slices.ContainsFunc(got.Spec.Containers[0].Env, func(v corev1.EnvVar) bool { return v.Name == name }) {
			f.add("driver pod %s/%s was not mutated by the webhook: no env %s from the SparkApplication's driver spec", got.Namespace, got.Name, name)
		}
	}
	uid, ok, _ := unstructured.NestedInt64(app.Object, "spec", "driver", "podSecurityContext", "runAsUser")
	if ok && (got.Spec.SecurityContext == nil || got.Spec.SecurityContext.RunAsUser == nil || *got.Spec.SecurityContext.RunAsUser != uid) {
		f.add("driver pod %s/%s was not mutated by the webhook: pod securityContext %+v, the driver spec asks runAsUser %d", got.Namespace, got.Name, got.Spec.SecurityContext, uid)
	}
}

// operator is one running `spark-operator <role> start`.
type operator struct {
	name      string
	args      []string
	proc      *testproc.Process
	probeURLs []string // liveness and readiness, at the local health address
}

// startOperator runs the container of the rendered Deployment d as a local
// process, authenticated as d's ServiceAccount. The args are the rendered
// ones except for what cannot mean the same outside a pod (see localArgs);
// the env is the container's plus what a pod would get from Kubernetes
// (KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount's credentials, here as a
// kubeconfig) and extraEnv.
func startOperator(ctx context.Context, t *testing.T, bin string, cluster *testcluster.Cluster, cs kubernetes.Interface, d *appsv1.Deployment, extraEnv []string) *operator {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	dir := filepath.Join(cluster.Dir(), d.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = filepath.Join(dir, "volume-"+m.Name)
		if err := os.MkdirAll(mounts[m.MountPath], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	args, probeURLs := localArgs(t, d, mounts)

	admin := cluster.RestConfig()
	sa := d.Spec.Template.Spec.ServiceAccountName
	tok, err := cs.CoreV1().ServiceAccounts(d.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for ServiceAccount %s/%s: %v", d.Namespace, sa, err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData}
	kc.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: sa, Namespace: d.Namespace}
	kc.CurrentContext = "test"
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}

	host, port, err := net.SplitHostPort(strings.TrimPrefix(admin.Host, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		// controller-runtime takes KUBECONFIG before the in-cluster config.
		"KUBECONFIG=" + kubeconfig,
		// Set in every pod; the controller builds spark-submit's master
		// URL from them.
		"KUBERNETES_SERVICE_HOST=" + host,
		"KUBERNETES_SERVICE_PORT=" + port,
	}
	if tmp, ok := mounts["/tmp"]; ok {
		env = append(env, "TMPDIR="+tmp)
	}
	for _, e := range c.Env {
		value := e.Value
		if e.ValueFrom != nil {
			// The downward API of the pod this process stands for.
			switch ref := e.ValueFrom.FieldRef; {
			case ref != nil && ref.FieldPath == "metadata.namespace":
				value = d.Namespace
			case ref != nil && ref.FieldPath == "metadata.name":
				value = d.Name + "-local"
			default:
				t.Fatalf("Deployment %s: env %s comes from %+v, which this test does not resolve yet", d.Name, e.Name, e.ValueFrom)
			}
		}
		env = append(env, e.Name+"="+value)
	}
	env = append(env, extraEnv...)

	p, err := testproc.Start(dir, d.Name, bin, args, env)
	if err != nil {
		t.Fatal(err)
	}
	// An exit while the test runs is a finding of run (the negative
	// control expects one); here the process is only stopped, and its log
	// shown when the test failed.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the test failed; log of %s:\n%s", d.Name, p.Tail(60))
		}
		p.Stop()
	})
	t.Logf("started %s as ServiceAccount %s/%s: spark-operator %s", d.Name, d.Namespace, sa, strings.Join(args, " "))
	return &operator{name: d.Name, args: args, proc: p, probeURLs: probeURLs}
}

// localArgs are the rendered args of d's container, rewritten only where a
// pod's own network namespace or volumes do not exist here:
//
//   - listen addresses (metrics, health probes) move to free 127.0.0.1
//     ports: in a cluster each pod has its own network namespace, here both
//     share the test's, so the same rendered port would collide;
//   - the health probe port must be the one the Deployment's readiness probe
//     names, which is checked first;
//   - --webhook-cert-dir points at the folder standing in for the volume the
//     Deployment mounts at the flag's default.
//
// The webhook port is kept: the API server reaches it at webhookPodIP.
func localArgs(t *testing.T, d *appsv1.Deployment, mounts map[string]string) (args, probeURLs []string) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	health := flagValue(c.Args, "health-probe-bind-address", defaultHealthProbeAddress)
	_, healthPort, err := net.SplitHostPort(health)
	if err != nil {
		t.Fatalf("Deployment %s: --health-probe-bind-address %q: %v", d.Name, health, err)
	}
	var paths []string
	for kind, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Fatalf("Deployment %s has no HTTP %s probe", d.Name, kind)
		}
		if p.HTTPGet.Port.String() != healthPort {
			t.Errorf("Deployment %s: the %s probe asks port %s, the operator serves its probes on %s", d.Name, kind, p.HTTPGet.Port.String(), health)
		}
		paths = append(paths, p.HTTPGet.Path)
	}
	slices.Sort(paths)
	ports := freePorts(t, 2)
	local := "127.0.0.1:" + strconv.Itoa(ports[1])
	for _, a := range c.Args {
		switch {
		case strings.HasPrefix(a, "--metrics-bind-address="):
			a = "--metrics-bind-address=127.0.0.1:" + strconv.Itoa(ports[0])
		case strings.HasPrefix(a, "--health-probe-bind-address="):
			continue // replaced below
		}
		args = append(args, a)
	}
	args = append(args, "--health-probe-bind-address="+local)
	if c.Args[0] == "webhook" {
		certDir := flagValue(c.Args, "webhook-cert-dir", defaultWebhookCertDir)
		dir, ok := mounts[certDir]
		if !ok {
			t.Errorf("Deployment %s mounts no volume at %s, where the webhook writes its certificate (its root file system is read-only)", d.Name, certDir)
			dir = t.TempDir() // to see what else fails
		}
		args = slices.DeleteFunc(args, func(a string) bool { return strings.HasPrefix(a, "--webhook-cert-dir=") })
		args = append(args, "--webhook-cert-dir="+dir)
	}
	for _, p := range paths {
		probeURLs = append(probeURLs, "http://"+local+p)
	}
	return args, probeURLs
}

// flagValue is the value of --name=value in args (the last one wins, as with
// pflag), or def.
func flagValue(args []string, name, def string) string {
	v := def
	for _, a := range args {
		if rest, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			v = rest
		}
	}
	return v
}

// waitReady waits until the operator answers its liveness and readiness
// probes (the rendered paths) with 200.
func (o *operator) waitReady(ctx context.Context, f *findings) bool {
	return waitFor(ctx, f, fmt.Sprintf("%s to answer its probes %v", o.name, o.probeURLs), func() (bool, string) {
		for _, u := range o.probeURLs {
			resp, err := http.Get(u)
			if err != nil {
				return false, err.Error()
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return false, u + ": " + resp.Status
			}
		}
		return true, ""
	}, o)
}

// logged reports whether the log has word (in any case) so far.
func (o *operator) logged(word string) bool {
	b, err := os.ReadFile(o.proc.LogPath)
	return err == nil && strings.Contains(strings.ToLower(string(b)), word)
}

func (o *operator) logLines(t *testing.T) []string {
	b, err := os.ReadFile(o.proc.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

// waitLease waits until the operator holds the leader-election Lease its
// args name.
func waitLease(ctx context.Context, f *findings, cs kubernetes.Interface, o *operator) {
	args := o.args
	ns := flagValue(args, "leader-election-lock-namespace", "")
	name := flagValue(args, "leader-election-lock-name", "")
	waitFor(ctx, f, fmt.Sprintf("a holder of Lease %s/%s", ns, name), func() (bool, string) {
		l, err := cs.CoordinationV1().Leases(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "", "no holder"
	}, o)
}

// waitFor polls cond until it holds, waitTimeout passes or one of procs
// exits (then nothing will change any more); if it does not hold, it records
// a finding with cond's last explanation.
func waitFor(ctx context.Context, f *findings, what string, cond func() (bool, string), procs ...*operator) bool {
	began := time.Now()
	for {
		ok, why := cond()
		if ok {
			return true
		}
		for _, p := range procs {
			if exited, err := p.proc.Exited(); exited {
				f.add("waited for %s: %s exited (%s); last: %s", what, p.name, testproc.DescribeExit(err), why)
				return false
			}
			// A refused request is already a finding (run reports the
			// log lines); waiting longer would only make the negative
			// control slow.
			if p.logged("forbidden") {
				f.add("gave up waiting for %s: %s logged a forbidden request; last: %s", what, p.name, why)
				return false
			}
		}
		if time.Since(began) > waitTimeout || ctx.Err() != nil {
			f.add("waited %s for %s: %s", waitTimeout, what, why)
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func mapsKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// freePorts asks the kernel for n distinct free loopback ports.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
