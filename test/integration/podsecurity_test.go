//go:build linux

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// podSecurityExceptions are the pods of the tree allowed to break the
// restricted level, each with the reason; README.md's "Reliability" section
// must list every one (the test checks). Keys are "Kind/namespace/name",
// values the reason.
var podSecurityExceptions = map[string]string{}

// podTemplate is one pod the tree makes, as Pod Security Admission sees it.
type podTemplate struct {
	ref  string // Kind/namespace/name, plus /driver or /executor for Spark roles
	meta metav1.ObjectMeta
	spec corev1.PodSpec
}

// TestPodSecurityRestricted evaluates every pod template of the rendered
// tree, in every environment of the default config (the Argo CD install
// included, as patched by the overlay), and the driver and executor of the
// example SparkApplications, with the Pod Security Admission library at
// restricted, latest. No cluster is needed: this is the library the API
// server's admission plugin runs.
func TestPodSecurityRestricted(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	level := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	cfg := upstreamtest.Config(t)
	cfg.Complete()
	seen := map[string]bool{}
	evaluated := 0
	for _, env := range cfg.EnvironmentNames() {
		overlay, examples := renderedTree(t, cfg, env)
		var pods []podTemplate
		for _, o := range append(overlay, examples...) {
			pods = append(pods, podTemplates(t, o)...)
		}
		if len(pods) == 0 {
			t.Fatalf("%s: no pod templates found", env)
		}
		for _, p := range pods {
			evaluated++
			agg := policy.AggregateCheckResults(evaluator.EvaluatePod(level, &p.meta, &p.spec))
			reason, excepted := podSecurityExceptions[p.ref]
			switch {
			case !agg.Allowed && !excepted:
				t.Errorf("%s (%s): violates restricted: %s", p.ref, env, details(agg))
			case agg.Allowed && excepted:
				t.Errorf("%s (%s) passes restricted now: drop its exception (%s) here and in the README", p.ref, env, reason)
			case !agg.Allowed:
				t.Logf("%s (%s): excepted (%s): %s", p.ref, env, reason, details(agg))
			}
			seen[p.ref] = true
		}
	}
	refs := make([]string, 0, len(seen))
	for r := range seen {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	t.Logf("%d pod templates evaluated at restricted (%d distinct): %s", evaluated, len(refs), strings.Join(refs, ", "))
	for ref := range podSecurityExceptions {
		if !seen[ref] {
			t.Errorf("exception for %s, which the tree no longer has", ref)
		}
	}

	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## Reliability")
	if section == "" {
		t.Fatal(`README.md has no "## Reliability" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for ref := range podSecurityExceptions {
		if !strings.Contains(section, ref) {
			t.Errorf("README.md's Reliability section does not list the Pod Security exception %s", ref)
		}
	}
}

// TestPodSecurityCheckCanFail is the negative control of the mapping above:
// a Deployment without its security contexts, and a SparkApplication driver
// without its own, are violations.
func TestPodSecurityCheckCanFail(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	level := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	deployment := decodeYAML(t, []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: bare, namespace: minio}
spec:
  selector: {matchLabels: {app: bare}}
  template:
    metadata: {labels: {app: bare}}
    spec:
      containers: [{name: c, image: busybox:1.36}]
`))[0]
	app := decodeYAML(t, []byte(`apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: bare, namespace: spark-jobs}
spec:
  driver:
    podSecurityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
  executor:
    hostNetwork: true
    podSecurityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`))[0]
	want := map[string]string{
		"Deployment/minio/bare":                     "allowPrivilegeEscalation",
		"SparkApplication/spark-jobs/bare/executor": "host namespaces",
	}
	for _, o := range []*unstructured.Unstructured{deployment, app} {
		for _, p := range podTemplates(t, o) {
			agg := policy.AggregateCheckResults(evaluator.EvaluatePod(level, &p.meta, &p.spec))
			w, bad := want[p.ref]
			switch {
			case bad && (agg.Allowed || !strings.Contains(details(agg), w)):
				t.Errorf("%s: want a violation naming %s, got allowed=%v %s", p.ref, w, agg.Allowed, details(agg))
			case !bad && !agg.Allowed:
				t.Errorf("%s: want allowed, got %s", p.ref, details(agg))
			}
		}
	}
}

func details(agg policy.AggregateCheckResult) string {
	var parts []string
	for i, r := range agg.ForbiddenReasons {
		if d := agg.ForbiddenDetails[i]; d != "" {
			r += " (" + d + ")"
		}
		parts = append(parts, r)
	}
	return strings.Join(parts, "; ")
}

// podTemplates returns the pods obj makes: the pod template of a workload
// kind, or the driver and executor of a SparkApplication (which is not a pod
// template: the operator builds the pods from the role's securityContext,
// podSecurityContext, sidecars, init containers and the app's volumes, and
// that is what is mapped here).
func podTemplates(t *testing.T, obj *unstructured.Unstructured) []podTemplate {
	t.Helper()
	ref := kube.Ref(obj)
	var templatePath []string
	switch obj.GetKind() {
	case "Pod":
		var pod corev1.Pod
		fromUnstructured(t, obj.Object, &pod)
		return []podTemplate{{ref, pod.ObjectMeta, pod.Spec}}
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		templatePath = []string{"spec", "template"}
	case "CronJob":
		templatePath = []string{"spec", "jobTemplate", "spec", "template"}
	case "SparkApplication":
		spec, _, _ := unstructured.NestedMap(obj.Object, "spec")
		return sparkPods(t, ref, spec)
	case "ScheduledSparkApplication":
		spec, _, _ := unstructured.NestedMap(obj.Object, "spec", "template")
		return sparkPods(t, ref, spec)
	default:
		return nil
	}
	raw, found, err := unstructured.NestedMap(obj.Object, templatePath...)
	if err != nil || !found {
		t.Fatalf("%s: no pod template (%v)", ref, err)
	}
	var tmpl corev1.PodTemplateSpec
	fromUnstructured(t, raw, &tmpl)
	return []podTemplate{{ref, tmpl.ObjectMeta, tmpl.Spec}}
}

// sparkRole is the part of a SparkApplication driver or executor spec that
// ends up in its pod's security-relevant fields.
type sparkRole struct {
	SecurityContext    *corev1.SecurityContext    `json:"securityContext"`
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext"`
	Sidecars           []corev1.Container         `json:"sidecars"`
	InitContainers     []corev1.Container         `json:"initContainers"`
	HostNetwork        *bool                      `json:"hostNetwork"`
	Labels             map[string]string          `json:"labels"`
	Annotations        map[string]string          `json:"annotations"`
}

func sparkPods(t *testing.T, ref string, spec map[string]any) []podTemplate {
	t.Helper()
	var app struct {
		Volumes  []corev1.Volume `json:"volumes"`
		Driver   sparkRole       `json:"driver"`
		Executor sparkRole       `json:"executor"`
	}
	fromUnstructured(t, spec, &app)
	var pods []podTemplate
	for name, role := range map[string]sparkRole{"driver": app.Driver, "executor": app.Executor} {
		containers := append([]corev1.Container{{Name: "spark-kubernetes-" + name, SecurityContext: role.SecurityContext}}, role.Sidecars...)
		pod := corev1.PodSpec{
			SecurityContext: role.PodSecurityContext,
			Containers:      containers,
			InitContainers:  role.InitContainers,
			Volumes:         app.Volumes,
		}
		if role.HostNetwork != nil {
			pod.HostNetwork = *role.HostNetwork
		}
		pods = append(pods, podTemplate{ref + "/" + name, metav1.ObjectMeta{Labels: role.Labels, Annotations: role.Annotations}, pod})
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].ref < pods[j].ref })
	return pods
}

func fromUnstructured(t *testing.T, in map[string]any, out any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(in, out); err != nil {
		t.Fatal(fmt.Errorf("decode %T: %w", out, err))
	}
}
