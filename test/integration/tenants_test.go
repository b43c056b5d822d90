//go:build linux

package integration

import (
	"context"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// tenantsConfig is the laptop with SeaweedFS and two tenants; team-b has a
// second group and its own quota and container defaults.
const tenantsConfig = `apiVersion: gen.rdspark.dev/v1alpha1
kind: Platform
spec:
  objectStore:
    type: seaweedfs
  tenants:
  - name: team-a
  - name: team-b
    groups: [team-b, platform-admins]
    podSecurity: restricted
    quota: {cpu: "2", memory: 8Gi, pods: 20, sparkApplications: 5}
    containerDefaults: {cpu: 100m, memory: 256Mi}
`

// withUpstream loads a config and points it at the loopback upstream server.
func withUpstream(t testing.TB, src, argo, spark string) config.Platform {
	t.Helper()
	cfg, err := config.Load("gen.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Spec.ArgoCD.ManifestsBaseURL, cfg.Spec.SparkOperator.CRDBaseURL = argo, spark
	return cfg
}

// TestTenantIsolationOnARealAPIServer applies the tree with two tenants to a
// real API server (RBAC authorization, the LimitRanger and ResourceQuota
// admission plugins, the quota controller), then asks the API server itself,
// with SubjectAccessReviews, what each tenant's group and service accounts
// may do, and lets it default and refuse pods against the tenant's
// LimitRange and ResourceQuota.
func TestTenantIsolationOnARealAPIServer(t *testing.T) {
	cluster := testcluster.Start(t, testcluster.WithControllerManager("resourcequota-controller"))
	argo, spark := upstreamtest.Serve(t)
	cfg := withUpstream(t, tenantsConfig, argo, spark)
	rec := &warnings{}
	restCfg := cluster.RestConfig()
	restCfg.WarningHandler = rec
	applier, err := kube.NewApplier(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	overlay, _ := renderedTree(t, cfg, "rancher-desktop")
	var first, rest []*unstructured.Unstructured
	kinds := map[string]int{}
	for _, o := range overlay {
		if isFirst(o) {
			first = append(first, o)
		} else {
			rest = append(rest, o)
		}
		if o.GetNamespace() == "team-a" || o.GetNamespace() == "team-b" || o.GetKind() == "AppProject" {
			kinds[o.GetKind()]++
		}
	}
	if _, err := applier.ApplyStaged(ctx, first, kube.Options{}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := applier.ApplyStaged(ctx, rest, kube.Options{}, 1); err != nil {
		t.Fatal(err)
	}
	noWarnings(t, rec, "the tree with tenants")
	// Per tenant: the driver's and the applications' Role, and the operator's controller and webhook Roles.
	for kind, want := range map[string]int{"ResourceQuota": 2, "LimitRange": 2, "Role": 8, "RoleBinding": 8, "NetworkPolicy": 4, "ServiceAccount": 2, "AppProject": 3} {
		if kinds[kind] != want {
			t.Errorf("%d %s objects for the tenants (and AppProjects), want %d", kinds[kind], kind, want)
		}
	}

	// What each subject may do, as the API server's RBAC authorizer decides.
	type access struct {
		user      string
		groups    []string
		verb      string
		group     string
		resource  string
		namespace string
		allowed   bool
	}
	const sparkGroup = "sparkoperator.k8s.io"
	teamA := []string{"team-a", "system:authenticated"}
	admins := []string{"platform-admins", "system:authenticated"}
	cases := []access{
		// A tenant's group manages its own Spark applications...
		{"alice", teamA, "create", sparkGroup, "sparkapplications", "team-a", true},
		{"alice", teamA, "delete", sparkGroup, "sparkapplications", "team-a", true},
		{"alice", teamA, "list", sparkGroup, "scheduledsparkapplications", "team-a", true},
		{"alice", teamA, "patch", sparkGroup, "scheduledsparkapplications", "team-a", true},
		// ...and not another tenant's, nor the shared job namespace's...
		{"alice", teamA, "create", sparkGroup, "sparkapplications", "team-b", false},
		{"alice", teamA, "get", sparkGroup, "sparkapplications", "team-b", false},
		{"alice", teamA, "create", sparkGroup, "sparkapplications", "spark-jobs", false},
		// ...and nothing else in its own namespace.
		{"alice", teamA, "create", "", "pods", "team-a", false},
		{"alice", teamA, "get", "", "secrets", "team-a", false},
		{"alice", teamA, "delete", "networking.k8s.io", "networkpolicies", "team-a", false},
		{"alice", teamA, "update", "", "resourcequotas", "team-a", false},
		{"alice", teamA, "create", "rbac.authorization.k8s.io", "rolebindings", "team-a", false},
		{"alice", teamA, "create", sparkGroup, "sparkconnects", "team-a", false},
		// A tenant with two groups: each of them gets the tenant's rights.
		{"bob", admins, "create", sparkGroup, "sparkapplications", "team-b", true},
		{"bob", admins, "create", sparkGroup, "sparkapplications", "team-a", false},
		// Nobody else.
		{"mallory", []string{"system:authenticated"}, "create", sparkGroup, "sparkapplications", "team-a", false},
		// The tenant's driver service account runs executors in its namespace only.
		{"system:serviceaccount:team-a:spark", nil, "create", "", "pods", "team-a", true},
		{"system:serviceaccount:team-a:spark", nil, "create", "", "pods", "team-b", false},
		{"system:serviceaccount:team-a:spark", nil, "create", sparkGroup, "sparkapplications", "team-a", false},
		{"system:serviceaccount:team-a:spark", nil, "get", "", "secrets", "team-a", false},
		// The operator watches the tenant namespaces (they joined its job namespaces).
		{"system:serviceaccount:spark-operator:spark-operator-controller", nil, "create", "", "pods", "team-a", true},
		{"system:serviceaccount:spark-operator:spark-operator-controller", nil, "update", sparkGroup, "sparkapplications/status", "team-b", true},
		{"system:serviceaccount:spark-operator:spark-operator-webhook", nil, "list", "", "resourcequotas", "team-b", true},
		{"system:serviceaccount:spark-operator:spark-operator-controller", nil, "create", "", "pods", "kube-system", false},
	}
	for _, c := range cases {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   c.user,
			Groups: c.groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: c.namespace, Verb: c.verb, Group: c.group, Resource: c.resource,
			},
		}}
		if sub, ok := cutSubresource(c.resource); ok {
			sar.Spec.ResourceAttributes.Resource, sar.Spec.ResourceAttributes.Subresource = sub[0], sub[1]
		}
		got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Allowed != c.allowed {
			t.Errorf("%s %v: %s %s.%s in %s: allowed=%v, want %v (%s)", c.user, c.groups, c.verb, c.resource, c.group, c.namespace,
				got.Status.Allowed, c.allowed, got.Status.Reason)
		}
	}

	// The quota controller fills in the quotas' status; until then the
	// ResourceQuota admission plugin refuses every pod.
	for _, ns := range []string{"team-a", "team-b"} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			q, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "spark-tenant", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Status.Hard) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the quota controller did not sync ResourceQuota %s/spark-tenant", ns)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	pod := func(ns string, cpu string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns},
			Spec: corev1.PodSpec{
				SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](185),
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
				Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/probe:1",
					SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
						Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
			},
		}
		if cpu != "" {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
		}
		return p
	}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	for ns, want := range map[string][2]string{"team-a": {"250m", "512Mi"}, "team-b": {"100m", "256Mi"}} {
		got, err := cs.CoreV1().Pods(ns).Create(ctx, pod(ns, ""), dryRun)
		if err != nil {
			t.Fatalf("a pod without resources in %s: %v", ns, err)
		}
		r := got.Spec.Containers[0].Resources
		if r.Requests.Cpu().String() != want[0] || r.Requests.Memory().String() != want[1] || r.Limits.Memory().String() != want[1] || !r.Limits.Cpu().IsZero() {
			t.Errorf("%s: the LimitRange gave %v, want requests cpu %s memory %s, memory limit %s, no CPU limit", ns, r, want[0], want[1], want[1])
		}
		_, err = cs.CoreV1().Pods(ns).Create(ctx, pod(ns, "100"), dryRun)
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: a pod asking for 100 CPUs: %v, want refused by the quota", ns, err)
		} else {
			t.Logf("%s: %v", ns, err)
		}
	}
	noWarnings(t, rec, "pods in tenant namespaces")
	t.Logf("%d objects applied; %d access checks, LimitRange defaults and quota limits as configured", len(overlay), len(cases))
}

// cutSubresource splits "sparkapplications/status".
func cutSubresource(r string) ([2]string, bool) {
	for i := range r {
		if r[i] == '/' {
			return [2]string{r[:i], r[i+1:]}, true
		}
	}
	return [2]string{}, false
}
