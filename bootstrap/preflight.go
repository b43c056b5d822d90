package bootstrap

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/progress"
	"github.com/rdspark/gen/generator/budget"
	"github.com/rdspark/gen/generator/config"
)

// MinKubernetesMinor is the oldest Kubernetes minor gen supports: Argo CD 3.x
// and the Spark Operator 2.x need server-side apply and ValidatingAdmissionPolicy-era APIs.
const MinKubernetesMinor = 28

// reachTimeout bounds the first request to the API server.
var reachTimeout = 5 * time.Second

// permission is one thing bootstrap must be allowed to do.
type permission struct {
	verb, group, resource, namespace string
}

func (p permission) String() string {
	r := p.resource
	if p.group != "" {
		r += "." + p.group
	}
	if p.namespace == "" {
		return fmt.Sprintf("%s %s (cluster-wide)", p.verb, r)
	}
	return fmt.Sprintf("%s %s in namespace %s", p.verb, r, p.namespace)
}

// required lists what bootstrap does: server-side apply (patch) of Argo CD's
// cluster-scoped objects and namespaced ones, Secrets in the namespaces that
// read the MinIO credentials, and the root Application.
func required(cfg config.Platform) []permission {
	ps := []permission{
		{"patch", "apiextensions.k8s.io", "customresourcedefinitions", ""},
		{"patch", "", "namespaces", ""},
		{"patch", "rbac.authorization.k8s.io", "clusterroles", ""},
		{"patch", "rbac.authorization.k8s.io", "clusterrolebindings", ""},
		{"patch", "apps", "deployments", "argocd"},
		{"patch", "apps", "statefulsets", "argocd"},
		{"patch", "", "configmaps", "argocd"},
		{"patch", "argoproj.io", "applications", "argocd"},
		{"patch", "argoproj.io", "appprojects", "argocd"},
	}
	for _, ns := range secretNamespaces(cfg) {
		ps = append(ps, permission{"get", "", "secrets", ns}, permission{"create", "", "secrets", ns})
	}
	return ps
}

// preflight checks the cluster before anything is written. Errors stop
// bootstrap; warnings are printed with the fix.
func preflight(ctx context.Context, restCfg *rest.Config, cs kubernetes.Interface, cfg config.Platform, env config.Environment, b budget.Budget, p *progress.Printer) error {
	// The first request answers "is anybody there?": a short timeout of its
	// own, so a stopped or unroutable cluster is reported within seconds.
	probeCfg := rest.CopyConfig(restCfg)
	probeCfg.Timeout = reachTimeout
	probe, err := kubernetes.NewForConfig(probeCfg)
	if err != nil {
		return err
	}
	version, err := probe.Discovery().ServerVersion()
	if apierrors.IsUnauthorized(err) {
		// It answered: the server is there, the credentials are not good.
		return fmt.Errorf("the API server at %s rejected the credentials (Unauthorized): the kubeconfig's token or client certificate is wrong or expired; "+
			"get fresh ones (Rancher Desktop writes them into ~/.kube/config when Kubernetes starts) and run bootstrap again", restCfg.Host)
	}
	if err != nil {
		return fmt.Errorf("API server not reachable (%v) at %s: is Rancher Desktop running with Kubernetes enabled?", shortCause(err), restCfg.Host)
	}
	minor, _ := strconv.Atoi(strings.TrimSuffix(version.Minor, "+"))
	if version.Major != "1" || minor < MinKubernetesMinor {
		return fmt.Errorf("Kubernetes %s.%s is not supported; gen needs 1.%d or newer", version.Major, version.Minor, MinKubernetesMinor)
	}
	p.Debugf("Kubernetes %s", version.GitVersion)

	var missing []string
	for _, perm := range required(cfg) {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: perm.verb, Group: perm.group, Resource: perm.resource, Namespace: perm.namespace},
		}}
		got, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("check permissions: %w", err)
		}
		if !got.Status.Allowed {
			missing = append(missing, perm.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing permissions (bootstrap needs cluster-admin on a laptop cluster):\n  %s", strings.Join(missing, "\n  "))
	}

	if _, err := cs.NetworkingV1().IngressClasses().Get(ctx, env.IngressClassName, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		p.Warnf("IngressClass %q does not exist: the UIs will not be reachable until an ingress controller provides it (Rancher Desktop: enable Traefik in Preferences > Kubernetes)", env.IngressClassName)
	} else if err != nil {
		return fmt.Errorf("read IngressClass %s: %w", env.IngressClassName, err)
	}

	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	checkNodeIP(nodes.Items, env, p)
	// The laptop may be smaller than environments[].capacity says.
	if short := b.NodesShortfall(nodes.Items); short != "" && len(nodes.Items) > 0 {
		p.Warnf("%s", short)
	} else {
		p.Debugf("budget %s", b.Summary())
	}
	if msg := SparkImageMissing(nodes.Items, cfg); msg != "" {
		p.Warnf("%s", msg)
	}
	return nil
}

// checkNodeIP warns when the environment's domain (an sslip.io name of the
// node IP) does not point at any node, with the exact fix.
func checkNodeIP(nodes []corev1.Node, env config.Environment, p *progress.Printer) {
	if env.NodeIP == "" || len(nodes) == 0 {
		return
	}
	var ips []string
	for _, n := range nodes {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && net.ParseIP(a.Address) != nil {
				if a.Address == env.NodeIP {
					return
				}
				ips = append(ips, a.Address)
			}
		}
	}
	if len(ips) > 0 {
		p.Warnf("the node's InternalIP is %s, but environment %s uses nodeIP %s (hosts *.%s will not reach it). Fix: set spec.environments[].nodeIP: %s for %s in gen.yaml, run gen render, commit and push",
			ips[0], env.Name, env.NodeIP, env.Domain, ips[0], env.Name)
	}
}
