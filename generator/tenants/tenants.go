package tenants

import (
	"net"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/minio"
	"github.com/rdspark/gen/generator/seaweedfs"
	"github.com/rdspark/gen/generator/sparkoperator"
)

// Names of the component and of the objects in each tenant's namespace.
const (
	Name = "tenants"
	// Wave: after the operator (which must watch the namespace) and with the
	// History Server, last of all.
	Wave = 4
	// Role and RoleBinding that give the tenant's groups their SparkApplications.
	ApplicationsRole = "spark-applications"
	quotaName        = "spark-tenant"
	denyAllPolicy    = "default-deny"
	sparkPolicy      = "spark"
)

// Component renders every tenant, one file each; nil when there are none.
func Component(cfg config.Platform) *component.Component {
	if len(cfg.Spec.Tenants) == 0 {
		return nil
	}
	egress := sparkEgress(cfg)
	files := make([]component.File, 0, len(cfg.Spec.Tenants))
	for _, t := range cfg.Spec.Tenants {
		files = append(files, component.File{Name: t.Name + ".yaml", Objects: Objects(t, egress)})
	}
	return &component.Component{
		Name: Name,
		// Every object names its namespace; the AppProjects live in argocd.
		Namespace: component.ArgoCDNamespace,
		Wave:      Wave,
		Files:     files,
	}
}

// Namespace is a tenant's namespace: enforced at the tenant's Pod Security
// level, warned and audited at restricted, labelled with the tenant.
func Namespace(t config.Tenant) *corev1.Namespace {
	ns := component.Namespace(t.Name, t.PodSecurity)
	ns.Labels[component.TenantLabel] = t.Name
	return ns
}

// Objects are what a tenant gets in its namespace, and its AppProject.
// egress are the allows of the spark NetworkPolicy beyond the namespace itself.
func Objects(t config.Tenant, egress []networkingv1.NetworkPolicyEgressRule) []any {
	ns := t.Name
	labels := component.Labels("tenant", "tenant")
	labels[component.TenantLabel] = t.Name
	objs := []any{
		quota(t, labels),
		limitRange(t, labels),
	}
	objs = append(objs, sparkoperator.DriverObjects(ns)...)
	objs = append(objs, applicationsRBAC(t, labels)...)
	objs = append(objs, networkPolicies(ns, labels, egress)...)
	return append(objs, argocd.TenantProject(t))
}

func quota(t config.Tenant, labels map[string]string) *corev1.ResourceQuota {
	q := t.Quota
	memory := resource.MustParse(string(q.Memory))
	return &corev1.ResourceQuota{
		TypeMeta:   component.TypeMeta("v1", "ResourceQuota"),
		ObjectMeta: component.Meta(quotaName, t.Name, labels),
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceRequestsCPU:                       resource.MustParse(string(q.CPU)),
			corev1.ResourceRequestsMemory:                    memory,
			corev1.ResourceLimitsMemory:                      memory,
			corev1.ResourcePods:                              *resource.NewQuantity(int64(q.Pods), resource.DecimalSI),
			"count/sparkapplications." + sparkoperator.Group: *resource.NewQuantity(int64(q.SparkApplications), resource.DecimalSI),
		}},
	}
}

// limitRange gives containers that set nothing a CPU and memory request and a
// memory limit (the quota counts limits.memory, so every container needs one).
func limitRange(t config.Tenant, labels map[string]string) *corev1.LimitRange {
	d := t.ContainerDefaults
	memory := resource.MustParse(string(d.Memory))
	return &corev1.LimitRange{
		TypeMeta:   component.TypeMeta("v1", "LimitRange"),
		ObjectMeta: component.Meta(quotaName, t.Name, labels),
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer,
			DefaultRequest: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse(string(d.CPU)),
				corev1.ResourceMemory: memory,
			},
			Default: corev1.ResourceList{corev1.ResourceMemory: memory},
		}}},
	}
}

// applicationsRBAC lets the tenant's groups manage SparkApplications and
// ScheduledSparkApplications in the namespace: nothing else, not even pods
// (the drivers' logs are the History Server's and the operator's business).
func applicationsRBAC(t config.Tenant, labels map[string]string) []any {
	subjects := make([]rbacv1.Subject, 0, len(t.Groups))
	for _, g := range t.Groups {
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g})
	}
	return []any{
		&rbacv1.Role{
			TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "Role"),
			ObjectMeta: component.Meta(ApplicationsRole, t.Name, labels),
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{sparkoperator.Group},
				Resources: []string{"scheduledsparkapplications", "sparkapplications"},
				Verbs:     []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"},
			}},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "RoleBinding"),
			ObjectMeta: component.Meta(ApplicationsRole, t.Name, labels),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: ApplicationsRole},
			Subjects:   subjects,
		},
	}
}

// networkPolicies deny all traffic of the namespace's pods, then allow what
// Spark needs: drivers and executors with each other (any port: block
// manager, shuffle, RPC), the object store, the API server (drivers create
// their executors), and DNS.
func networkPolicies(ns string, labels map[string]string, egress []networkingv1.NetworkPolicyEgressRule) []any {
	both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	sameNamespace := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
	return []any{
		&networkingv1.NetworkPolicy{
			TypeMeta:   component.TypeMeta("networking.k8s.io/v1", "NetworkPolicy"),
			ObjectMeta: component.Meta(denyAllPolicy, ns, labels),
			Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: both},
		},
		&networkingv1.NetworkPolicy{
			TypeMeta:   component.TypeMeta("networking.k8s.io/v1", "NetworkPolicy"),
			ObjectMeta: component.Meta(sparkPolicy, ns, labels),
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: both,
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: sameNamespace}},
				Egress:      append([]networkingv1.NetworkPolicyEgressRule{{To: sameNamespace}}, egress...),
			},
		},
	}
}

// sparkEgress are the egress allows every tenant shares: DNS, the API server
// and the object store. The API server is reached through the kubernetes
// Service, which NetworkPolicies see after translation to the server's own
// address (k3s: the node at 6443), unknown to the tree: any address on 443
// and 6443.
func sparkEgress(cfg config.Platform) []networkingv1.NetworkPolicyEgressRule {
	tcp := func(port int32) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(port))}
	}
	anywhere := []networkingv1.NetworkPolicyPeer{
		{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "::/0"}},
	}
	dns := networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
		}},
		Ports: []networkingv1.NetworkPolicyPort{
			{Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(intstr.FromInt32(53))},
			tcp(53),
		},
	}
	apiServer := networkingv1.NetworkPolicyEgressRule{To: anywhere, Ports: []networkingv1.NetworkPolicyPort{tcp(443), tcp(6443)}}

	var store networkingv1.NetworkPolicyEgressRule
	switch cfg.Spec.ObjectStore.Type {
	case config.ObjectStoreExternal:
		store = networkingv1.NetworkPolicyEgressRule{To: anywhere, Ports: []networkingv1.NetworkPolicyPort{tcp(endpointPort(cfg.Spec.ObjectStore.Endpoint))}}
	case config.ObjectStoreSeaweedFS:
		store = inClusterStore(seaweedfs.Name, seaweedfs.S3Port)
	default:
		store = inClusterStore(minio.Name, minio.APIPort)
	}
	return []networkingv1.NetworkPolicyEgressRule{store, apiServer, dns}
}

func inClusterStore(name string, port int32) networkingv1.NetworkPolicyEgressRule {
	peer := component.NamespacePeer(component.ObjectStoreNamespace)
	peer.PodSelector = &metav1.LabelSelector{MatchLabels: component.SelectorLabels(name, "object-store")}
	return networkingv1.NetworkPolicyEgressRule{
		To:    []networkingv1.NetworkPolicyPeer{peer},
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(port))}},
	}
}

// endpointPort is the TCP port of a validated http(s) URL.
func endpointPort(endpoint string) int32 {
	u, err := url.Parse(endpoint)
	if err != nil {
		return 443
	}
	if _, p, err := net.SplitHostPort(u.Host); err == nil {
		if n, err := strconv.ParseInt(p, 10, 32); err == nil {
			return int32(n)
		}
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}
