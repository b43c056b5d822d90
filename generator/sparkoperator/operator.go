package sparkoperator

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/patch"
)

// Names from the chart with release name "spark-operator", so that the
// operator's own flags and leases line up with what users read upstream.
const (
	Name              = "spark-operator"
	controllerName    = "spark-operator-controller"
	webhookName       = "spark-operator-webhook"
	webhookService    = "spark-operator-webhook-svc"
	webhookSecret     = "spark-operator-webhook-certs"
	webhookPort       = 9443
	metricsPort       = 8080
	healthPort        = 8081
	sparkUID          = 185
	group             = "sparkoperator.k8s.io"
	controllerLock    = "spark-operator-controller-lock"
	webhookLock       = "spark-operator-webhook-lock"
	crdComponentName  = "spark-crds"
	jobsComponentName = "spark-jobs"
)

// CRDFiles are the operator's CRDs in config/crd/bases/ of a release.
var CRDFiles = []string{
	"sparkoperator.k8s.io_scheduledsparkapplications.yaml",
	"sparkoperator.k8s.io_sparkapplications.yaml",
	"sparkoperator.k8s.io_sparkconnects.yaml",
}

// CRDURLs are the exact upstream URLs of the pinned release's CRDs.
func CRDURLs(cfg config.Platform) []string {
	o := cfg.Spec.SparkOperator
	urls := make([]string, 0, len(CRDFiles))
	for _, f := range CRDFiles {
		urls = append(urls, fmt.Sprintf("%s/v%s/config/crd/bases/%s", o.CRDBaseURL, strings.TrimPrefix(o.Version, "v"), f))
	}
	return urls
}

// CRDs is the component that installs the CRDs, in the first wave with the namespaces.
func CRDs(cfg config.Platform) component.Component {
	return component.Component{Name: crdComponentName, Namespace: component.SparkOperatorNamespace, Wave: 0, Remote: CRDURLs(cfg)}
}

// Component renders the operator itself.
func Component(cfg config.Platform) (component.Component, error) {
	o := cfg.Spec.SparkOperator
	ns := component.SparkOperatorNamespace
	allJobNamespaces := cfg.AllJobNamespaces()
	jobNamespaces := strings.Join(allJobNamespaces, ",")
	image := component.Image(cfg.Spec.Images, o.Image)

	controllerLabels := component.Labels(Name, "controller")
	webhookLabels := component.Labels(Name, "webhook")

	controllerArgs := []string{
		"controller", "start",
		"--zap-log-level=info",
		"--zap-encoder=console",
		"--namespaces=" + jobNamespaces,
		fmt.Sprintf("--controller-threads=%d", o.ControllerWorkers),
		"--enable-ui-service=true",
		"--enable-metrics=true",
		fmt.Sprintf("--metrics-bind-address=:%d", metricsPort),
		"--metrics-endpoint=/metrics",
		"--leader-election=true",
		"--leader-election-lock-name=" + controllerLock,
		"--leader-election-lock-namespace=" + ns,
		// The chart's workqueue rate limiter (values.yaml
		// controller.workqueueRateLimiter: 50 QPS, bucket 500, max delay 6h).
		"--workqueue-ratelimiter-bucket-qps=50",
		"--workqueue-ratelimiter-bucket-size=500",
		"--workqueue-ratelimiter-max-delay=6h",
	}
	webhookArgs := []string{
		"webhook", "start",
		"--zap-log-level=info",
		"--zap-encoder=console",
		"--namespaces=" + jobNamespaces,
		"--webhook-secret-name=" + webhookSecret,
		"--webhook-secret-namespace=" + ns,
		"--webhook-svc-name=" + webhookService,
		"--webhook-svc-namespace=" + ns,
		fmt.Sprintf("--webhook-port=%d", webhookPort),
		"--mutating-webhook-name=" + webhookName,
		"--validating-webhook-name=" + webhookName,
		"--enable-metrics=true",
		fmt.Sprintf("--metrics-bind-address=:%d", metricsPort),
		"--metrics-endpoint=/metrics",
		"--leader-election=true",
		"--leader-election-lock-name=" + webhookLock,
		"--leader-election-lock-namespace=" + ns,
	}

	controller := deployment(controllerName, ns, controllerLabels, image, controllerArgs, o.Resources,
		// Bound each spark-submit JVM the controller starts (one per
		// worker at most) so that they fit the memory limit, which
		// validation sizes for controllerWorkers of them.
		[]corev1.EnvVar{{Name: "SPARK_SUBMIT_OPTS", Value: config.SubmitOpts()}},
		[]corev1.ContainerPort{{Name: "metrics", ContainerPort: metricsPort, Protocol: corev1.ProtocolTCP}},
		// spark-submit writes to /tmp on the read-only root filesystem.
		[]corev1.Volume{component.EmptyDir("tmp", "1Gi")},
		[]corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}})

	files := []component.File{
		{Name: "serviceaccounts.yaml", Objects: []any{serviceAccount(controllerName, ns, controllerLabels)}},
		{Name: "controller-rbac.yaml", Objects: controllerRBAC(ns, allJobNamespaces, controllerLabels)},
		{Name: "controller-deployment.yaml", Objects: []any{controller}},
	}
	// The controller serves nothing the cluster needs (its metrics port is
	// not scraped here): nothing gets in.
	policies := []any{component.IngressPolicy(controllerName, ns, controllerLabels, selectorOf(controllerLabels))}
	if o.Webhook {
		files[0].Objects = append(files[0].Objects, serviceAccount(webhookName, ns, webhookLabels))
		webhook := deployment(webhookName, ns, webhookLabels, image, webhookArgs, o.Resources, nil,
			[]corev1.ContainerPort{
				{Name: "webhook", ContainerPort: webhookPort, Protocol: corev1.ProtocolTCP},
				{Name: "metrics", ContainerPort: metricsPort, Protocol: corev1.ProtocolTCP},
			},
			// The webhook writes the certificate it generates here; it keeps
			// the CA in the spark-operator-webhook-certs Secret it creates itself.
			[]corev1.Volume{component.EmptyDir("serving-certs", "16Mi")},
			[]corev1.VolumeMount{{Name: "serving-certs", MountPath: "/etc/k8s-webhook-server/serving-certs"}})
		files = append(files,
			component.File{Name: "webhook-rbac.yaml", Objects: webhookRBAC(ns, allJobNamespaces, webhookLabels)},
			component.File{Name: "webhook-deployment.yaml", Objects: []any{webhook}},
			component.File{Name: "webhook-service.yaml", Objects: []any{webhookSvc(ns, webhookLabels)}},
			component.File{Name: "webhook-configurations.yaml", Objects: webhookConfigurations(ns, allJobNamespaces, webhookLabels)},
		)
		// The API server calls the webhook; on k3s those calls come from
		// the node's own address (host network), which no namespace or pod
		// selector matches, so the webhook port is open to every source
		// and nothing else is.
		policies = append(policies, component.IngressPolicy(webhookName, ns, webhookLabels, selectorOf(webhookLabels),
			networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{component.TCPPort(webhookPort)}}))
	}
	files = append(files, component.File{Name: "networkpolicies.yaml", Objects: policies})

	var ignore []component.IgnoreDifference
	if o.Webhook {
		// The webhook injects its CA into these at run time; Git must not undo it.
		ignore = []component.IgnoreDifference{
			{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration", Name: webhookName, JQPathExpressions: []string{".webhooks[]?.clientConfig.caBundle"}},
			{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration", Name: webhookName, JQPathExpressions: []string{".webhooks[]?.clientConfig.caBundle"}},
		}
	}
	return component.Component{
		Name:              Name,
		Namespace:         ns,
		Wave:              2,
		Files:             files,
		IgnoreDifferences: ignore,
		Overlay: func(env config.Environment) ([]types.Patch, error) {
			deployments := []string{controllerName}
			if o.Webhook {
				deployments = append(deployments, webhookName)
			}
			var patches []types.Patch
			for _, d := range deployments {
				if r := env.Resources.SparkOperator; r != nil {
					patches = append(patches, patch.ContainerResources("Deployment", d, *r))
				}
				if n := env.Replicas.SparkOperator; n > 1 {
					patches = append(patches, patch.Replicas(d, n))
				}
			}
			return patches, nil
		},
	}, nil
}

// selectorOf is the Deployment selector of a component's labels.
func selectorOf(labels map[string]string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": labels["app.kubernetes.io/name"], "app.kubernetes.io/component": labels["app.kubernetes.io/component"]}
}

func serviceAccount(name, ns string, labels map[string]string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{TypeMeta: component.TypeMeta("v1", "ServiceAccount"), ObjectMeta: component.Meta(name, ns, labels)}
}

func deployment(name, ns string, labels map[string]string, image string, args []string, r config.Resources, env []corev1.EnvVar,
	ports []corev1.ContainerPort, volumes []corev1.Volume, mounts []corev1.VolumeMount) *appsv1.Deployment {
	selector := selectorOf(labels)
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(healthPort)}}}
	}
	d := &appsv1.Deployment{
		TypeMeta:   component.TypeMeta("apps/v1", "Deployment"),
		ObjectMeta: component.Meta(name, ns, labels),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: name,
					SecurityContext:    component.PodSecurity(sparkUID),
					Containers: []corev1.Container{{
						Name:            name,
						Image:           image,
						ImagePullPolicy: corev1.PullIfNotPresent,
						Args:            args,
						Env:             env,
						Ports:           ports,
						LivenessProbe:   probe("/healthz"),
						ReadinessProbe:  probe("/readyz"),
						Resources:       component.Resources(r),
						SecurityContext: component.ContainerSecurity(),
						VolumeMounts:    mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}
	component.LimitEphemeralStorage(&d.Spec.Template.Spec)
	return d
}

func rule(group string, resources []string, verbs ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{group}, Resources: resources, Verbs: verbs}
}

func namedRule(group string, resources []string, names []string, verbs ...string) rbacv1.PolicyRule {
	r := rule(group, resources, verbs...)
	r.ResourceNames = names
	return r
}

// controllerJobRules are what the controller does in each job namespace:
// run drivers, expose their UI, record events, own the Spark CRs.
func controllerJobRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule("", []string{"pods"}, "get", "list", "watch", "create", "update", "delete"),
		rule("", []string{"configmaps"}, "get", "list", "watch", "create", "update", "patch"),
		rule("", []string{"services"}, "get", "list", "watch", "create", "update", "patch", "delete"),
		rule("", []string{"events"}, "create", "update", "patch"),
		rule("networking.k8s.io", []string{"ingresses"}, "get", "create", "update", "delete"),
		rule(group, []string{"sparkapplications"}, "get", "list", "watch", "create", "delete"),
		rule(group, []string{"scheduledsparkapplications", "sparkconnects"}, "get", "list", "watch"),
		rule(group, []string{"sparkapplications/status", "scheduledsparkapplications/status", "sparkconnects/status"}, "update"),
		rule(group, []string{"sparkapplications/finalizers", "scheduledsparkapplications/finalizers", "sparkconnects/finalizers"}, "update"),
	}
}

func controllerRBAC(ns string, jobNamespaces []string, labels map[string]string) []any {
	objs := []any{
		&rbacv1.ClusterRole{
			TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "ClusterRole"),
			ObjectMeta: component.Meta(controllerName, "", labels),
			Rules:      []rbacv1.PolicyRule{rule("apiextensions.k8s.io", []string{"customresourcedefinitions"}, "get")},
		},
		clusterRoleBinding(controllerName, ns, labels),
		&rbacv1.Role{
			TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "Role"),
			ObjectMeta: component.Meta(controllerName, ns, labels),
			Rules: []rbacv1.PolicyRule{
				rule("coordination.k8s.io", []string{"leases"}, "create"),
				namedRule("coordination.k8s.io", []string{"leases"}, []string{controllerLock}, "get", "update"),
				rule("", []string{"events"}, "create", "update", "patch"),
			},
		},
		roleBinding(controllerName, ns, ns, labels),
	}
	for _, jobNS := range jobNamespaces {
		objs = append(objs,
			&rbacv1.Role{
				TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "Role"),
				ObjectMeta: component.Meta(controllerName, jobNS, labels),
				Rules:      controllerJobRules(),
			},
			roleBinding(controllerName, jobNS, ns, labels))
	}
	return objs
}

func webhookRBAC(ns string, jobNamespaces []string, labels map[string]string) []any {
	objs := []any{
		&rbacv1.ClusterRole{
			TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "ClusterRole"),
			ObjectMeta: component.Meta(webhookName, "", labels),
			Rules: []rbacv1.PolicyRule{
				rule("admissionregistration.k8s.io", []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, "list", "watch"),
				namedRule("admissionregistration.k8s.io", []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, []string{webhookName}, "get", "update"),
			},
		},
		clusterRoleBinding(webhookName, ns, labels),
		&rbacv1.Role{
			TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "Role"),
			ObjectMeta: component.Meta(webhookName, ns, labels),
			Rules: []rbacv1.PolicyRule{
				// Leader election records events (the chart grants these
				// with webhook.leaderElection.enable).
				rule("", []string{"events"}, "create", "update", "patch"),
				rule("", []string{"secrets"}, "create"),
				namedRule("", []string{"secrets"}, []string{webhookSecret}, "get", "update"),
				rule("coordination.k8s.io", []string{"leases"}, "create"),
				namedRule("coordination.k8s.io", []string{"leases"}, []string{webhookLock}, "get", "update"),
			},
		},
		roleBinding(webhookName, ns, ns, labels),
	}
	for _, jobNS := range jobNamespaces {
		objs = append(objs,
			&rbacv1.Role{
				TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "Role"),
				ObjectMeta: component.Meta(webhookName, jobNS, labels),
				Rules: []rbacv1.PolicyRule{
					rule("", []string{"pods"}, "list", "watch"),
					rule("", []string{"resourcequotas"}, "list", "watch"),
					rule(group, []string{"sparkapplications", "scheduledsparkapplications"}, "get", "list", "watch"),
				},
			},
			roleBinding(webhookName, jobNS, ns, labels))
	}
	return objs
}

func clusterRoleBinding(name, saNamespace string, labels map[string]string) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
		ObjectMeta: component.Meta(name, "", labels),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: saNamespace}},
	}
}

// roleBinding binds Role name in ns to the ServiceAccount name of saNamespace.
func roleBinding(name, ns, saNamespace string, labels map[string]string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "RoleBinding"),
		ObjectMeta: component.Meta(name, ns, labels),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: saNamespace}},
	}
}

func webhookSvc(ns string, labels map[string]string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   component.TypeMeta("v1", "Service"),
		ObjectMeta: component.Meta(webhookService, ns, labels),
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app.kubernetes.io/name": Name, "app.kubernetes.io/component": "webhook"},
			Ports:    []corev1.ServicePort{{Name: "webhook", Port: webhookPort, TargetPort: intstr.FromString("webhook"), Protocol: corev1.ProtocolTCP}},
		},
	}
}

// webhookTarget is one admission endpoint of the operator's webhook server.
type webhookTarget struct {
	group, version, resource string
	operations               []admissionregistrationv1.OperationType
}

func (t webhookTarget) suffix() string {
	g := strings.ReplaceAll(t.group, ".", "-")
	kind := strings.TrimSuffix(t.resource, "s")
	return fmt.Sprintf("%s-%s-%s", g, t.version, kind)
}

var (
	createUpdate   = []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	sparkResources = []webhookTarget{
		{group, "v1beta2", "sparkapplications", createUpdate},
		{group, "v1beta2", "scheduledsparkapplications", createUpdate},
		{group, "v1alpha1", "sparkconnects", createUpdate},
	}
)

func webhookConfigurations(ns string, jobNamespaces []string, labels map[string]string) []any {
	nsSelector := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: jobNamespaces,
	}}}
	clientConfig := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
			Name: webhookService, Namespace: ns, Port: ptr.To[int32](webhookPort), Path: ptr.To(path),
		}}
	}
	rules := func(t webhookTarget) []admissionregistrationv1.RuleWithOperations {
		return []admissionregistrationv1.RuleWithOperations{{
			Operations: t.operations,
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{t.group}, APIVersions: []string{t.version}, Resources: []string{t.resource}},
		}}
	}
	sideEffects := ptr.To(admissionregistrationv1.SideEffectClassNone)
	failurePolicy := ptr.To(admissionregistrationv1.Fail)

	// Pods: only driver and executor pods the operator launched are mutated
	// (volumes, env, security context from the SparkApplication).
	mutating := []admissionregistrationv1.MutatingWebhook{{
		Name:                    "mutate--v1-pod.sparkoperator.k8s.io",
		ClientConfig:            clientConfig("/mutate--v1-pod"),
		Rules:                   rules(webhookTarget{"", "v1", "pods", []admissionregistrationv1.OperationType{admissionregistrationv1.Create}}),
		ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"sparkoperator.k8s.io/launched-by-spark-operator": "true"}},
		NamespaceSelector:       nsSelector,
		SideEffects:             sideEffects,
		FailurePolicy:           failurePolicy,
		TimeoutSeconds:          ptr.To[int32](10),
		AdmissionReviewVersions: []string{"v1"},
	}}
	var validating []admissionregistrationv1.ValidatingWebhook
	for _, t := range sparkResources {
		mutating = append(mutating, admissionregistrationv1.MutatingWebhook{
			Name:                    "mutate-" + t.suffix() + ".sparkoperator.k8s.io",
			ClientConfig:            clientConfig("/mutate-" + t.suffix()),
			Rules:                   rules(t),
			NamespaceSelector:       nsSelector,
			SideEffects:             sideEffects,
			FailurePolicy:           failurePolicy,
			TimeoutSeconds:          ptr.To[int32](10),
			AdmissionReviewVersions: []string{"v1"},
		})
		validating = append(validating, admissionregistrationv1.ValidatingWebhook{
			Name:                    "validate-" + t.suffix() + ".sparkoperator.k8s.io",
			ClientConfig:            clientConfig("/validate-" + t.suffix()),
			Rules:                   rules(t),
			NamespaceSelector:       nsSelector,
			SideEffects:             sideEffects,
			FailurePolicy:           failurePolicy,
			TimeoutSeconds:          ptr.To[int32](10),
			AdmissionReviewVersions: []string{"v1"},
		})
	}
	return []any{
		&admissionregistrationv1.MutatingWebhookConfiguration{
			TypeMeta:   component.TypeMeta("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
			ObjectMeta: component.Meta(webhookName, "", labels),
			Webhooks:   mutating,
		},
		&admissionregistrationv1.ValidatingWebhookConfiguration{
			TypeMeta:   component.TypeMeta("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
			ObjectMeta: component.Meta(webhookName, "", labels),
			Webhooks:   validating,
		},
	}
}
