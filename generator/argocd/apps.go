package argocd

import (
	"path"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
)

// Project is the AppProject every platform Application belongs to.
const Project = "spark-platform"

// RootName is the root Application of the app-of-apps, applied by gen bootstrap.
const RootName = "spark-platform"

// InCluster is the API server address Argo CD uses for its own cluster.
const InCluster = "https://kubernetes.default.svc"

// finalizer makes deleting an Application delete its resources first
// (foreground cascade); the path-qualified name is the one the API server
// does not warn about.
const finalizer = "resources-finalizer.argocd.argoproj.io/foreground"

// OverlayPath is the folder of a component's overlay inside the repository.
func OverlayPath(cfg config.Platform, env, name string) string {
	return path.Join(cfg.Spec.Git.Path, "overlays", env, name)
}

// PlatformProject allows only the configured repository, the in-cluster API server
// with the platform and job namespaces, and the cluster-scoped kinds the
// platform installs.
func PlatformProject(cfg config.Platform) *AppProject {
	namespaces := append([]string{}, config.PlatformNamespaces...)
	namespaces = append(namespaces, cfg.AllJobNamespaces()...)
	sort.Strings(namespaces)
	destinations := make([]ApplicationDestination, 0, len(namespaces))
	for _, ns := range namespaces {
		destinations = append(destinations, ApplicationDestination{Server: InCluster, Namespace: ns})
	}
	return &AppProject{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: "AppProject"},
		ObjectMeta: metav1.ObjectMeta{Name: Project, Namespace: component.ArgoCDNamespace, Labels: map[string]string{"app.kubernetes.io/part-of": component.PartOf}},
		Spec: AppProjectSpec{
			Description:  "The Spark platform rendered by gen: only its repository, its namespaces and the cluster-scoped kinds it installs.",
			SourceRepos:  []string{cfg.Spec.Git.RepoURL},
			Destinations: destinations,
			ClusterResourceWhitelist: []GroupKind{
				{Group: "", Kind: "Namespace"},
				{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"},
				{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"},
				{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"},
				{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"},
				{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"},
			},
		},
	}
}

// TenantProjectName is the AppProject of a tenant.
func TenantProjectName(tenant string) string { return "tenant-" + tenant }

// TenantProject lets a tenant's Applications read only the tenant's
// repositories and deploy only SparkApplications and ScheduledSparkApplications
// into the tenant's namespace (nothing cluster-scoped: the whitelist is
// empty). Its role gives the tenant's groups the project's Applications in
// Argo CD and nothing else.
func TenantProject(t config.Tenant) *AppProject {
	name := TenantProjectName(t.Name)
	return &AppProject{
		TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: "AppProject"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: component.ArgoCDNamespace, Labels: map[string]string{
			"app.kubernetes.io/part-of": component.PartOf,
			component.TenantLabel:       t.Name,
		}},
		Spec: AppProjectSpec{
			Description:  "Spark applications of tenant " + t.Name + ", in its namespace only",
			SourceRepos:  t.SourceRepos,
			Destinations: []ApplicationDestination{{Server: InCluster, Namespace: t.Name}},
			NamespaceResourceWhitelist: []GroupKind{
				{Group: "sparkoperator.k8s.io", Kind: "ScheduledSparkApplication"},
				{Group: "sparkoperator.k8s.io", Kind: "SparkApplication"},
			},
			Roles: []ProjectRole{{
				Name:        "members",
				Description: "the tenant's groups manage the project's Applications",
				Policies:    []string{"p, proj:" + name + ":members, applications, *, " + name + "/*, allow"},
				Groups:      t.Groups,
			}},
		},
	}
}

// ComponentApplication is the child Application that syncs one component's overlay.
func ComponentApplication(cfg config.Platform, env string, c component.Component) *Application {
	app := newApplication(cfg, c.Name, OverlayPath(cfg, env, c.Name), c.Namespace)
	app.Annotations = map[string]string{"argocd.argoproj.io/sync-wave": strconv.Itoa(c.Wave)}
	for _, d := range c.IgnoreDifferences {
		app.Spec.IgnoreDifferences = append(app.Spec.IgnoreDifferences, ResourceIgnoreDifferences{
			Group: d.Group, Kind: d.Kind, Name: d.Name, JQPathExpressions: d.JQPathExpressions,
		})
	}
	return app
}

// RootApplication syncs the environment's apps folder: the AppProject and
// every child Application.
func RootApplication(cfg config.Platform, env string) *Application {
	return newApplication(cfg, RootName, OverlayPath(cfg, env, "apps"), component.ArgoCDNamespace)
}

func newApplication(cfg config.Platform, name, sourcePath, namespace string) *Application {
	return &Application{
		TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: "Application"},
		ObjectMeta: metav1.ObjectMeta{
			Name:       name,
			Namespace:  component.ArgoCDNamespace,
			Labels:     map[string]string{"app.kubernetes.io/part-of": component.PartOf},
			Finalizers: []string{finalizer},
		},
		Spec: ApplicationSpec{
			Project:     Project,
			Source:      ApplicationSource{RepoURL: cfg.Spec.Git.RepoURL, TargetRevision: cfg.Spec.Git.Revision, Path: sourcePath},
			Destination: ApplicationDestination{Server: InCluster, Namespace: namespace},
			SyncPolicy: &SyncPolicy{
				Automated: &SyncPolicyAutomated{Prune: true, SelfHeal: true},
				// Server-side apply: the CRDs are too large for client-side apply's
				// last-applied annotation. RespectIgnoreDifferences keeps run-time
				// fields (the webhook caBundle) out of syncs, not just out of diffs.
				SyncOptions: []string{"ServerSideApply=true", "RespectIgnoreDifferences=true", "PruneLast=true"},
				Retry: &RetryStrategy{Limit: 10, Backoff: &Backoff{
					Duration: "10s", Factor: ptr.To[int64](2), MaxDuration: "5m",
				}},
			},
		},
	}
}
