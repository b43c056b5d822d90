package argocd

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// APIVersion of Argo CD's kinds.
const APIVersion = "argoproj.io/v1alpha1"

// Application is argoproj.io/v1alpha1 Application, reduced to what gen emits.
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ApplicationSpec `json:"spec"`
}

// ApplicationSpec is where the Application reads from and deploys to, and how it syncs.
type ApplicationSpec struct {
	Project           string                      `json:"project"`
	Source            ApplicationSource           `json:"source"`
	Destination       ApplicationDestination      `json:"destination"`
	SyncPolicy        *SyncPolicy                 `json:"syncPolicy,omitempty"`
	IgnoreDifferences []ResourceIgnoreDifferences `json:"ignoreDifferences,omitempty"`
}

// ApplicationSource is a folder of a Git repository at a revision.
type ApplicationSource struct {
	RepoURL        string `json:"repoURL"`
	TargetRevision string `json:"targetRevision"`
	Path           string `json:"path"`
}

// ApplicationDestination is a cluster (by API server URL) and default namespace.
type ApplicationDestination struct {
	Server    string `json:"server"`
	Namespace string `json:"namespace"`
}

// SyncPolicy is automated sync with its options and retry.
type SyncPolicy struct {
	Automated   *SyncPolicyAutomated `json:"automated,omitempty"`
	SyncOptions []string             `json:"syncOptions,omitempty"`
	Retry       *RetryStrategy       `json:"retry,omitempty"`
}

// SyncPolicyAutomated turns on automated sync.
type SyncPolicyAutomated struct {
	Prune    bool `json:"prune"`
	SelfHeal bool `json:"selfHeal"`
}

// RetryStrategy retries failed syncs with exponential backoff.
type RetryStrategy struct {
	Limit   int64    `json:"limit"`
	Backoff *Backoff `json:"backoff,omitempty"`
}

// Backoff of retries; Factor is an integer in the CRD schema.
type Backoff struct {
	Duration    string `json:"duration"`
	Factor      *int64 `json:"factor"`
	MaxDuration string `json:"maxDuration"`
}

// ResourceIgnoreDifferences names fields Argo CD does not compare (and, with
// RespectIgnoreDifferences=true, does not overwrite).
type ResourceIgnoreDifferences struct {
	Group             string   `json:"group,omitempty"`
	Kind              string   `json:"kind"`
	Name              string   `json:"name,omitempty"`
	Namespace         string   `json:"namespace,omitempty"`
	JQPathExpressions []string `json:"jqPathExpressions,omitempty"`
}

// AppProject is argoproj.io/v1alpha1 AppProject, reduced to what gen emits.
type AppProject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              AppProjectSpec `json:"spec"`
}

// AppProjectSpec restricts where Applications of the project read and deploy.
type AppProjectSpec struct {
	Description              string                   `json:"description,omitempty"`
	SourceRepos              []string                 `json:"sourceRepos"`
	Destinations             []ApplicationDestination `json:"destinations"`
	ClusterResourceWhitelist []GroupKind              `json:"clusterResourceWhitelist,omitempty"`
	// NamespaceResourceWhitelist, when set, is the only namespaced kinds
	// the project's Applications may deploy.
	NamespaceResourceWhitelist []GroupKind `json:"namespaceResourceWhitelist,omitempty"`
	// Roles grant groups rights on the project's Applications in Argo CD.
	Roles []ProjectRole `json:"roles,omitempty"`
}

// ProjectRole is a project role: Casbin policies for groups of SSO users.
type ProjectRole struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Policies    []string `json:"policies,omitempty"`
	Groups      []string `json:"groups,omitempty"`
}

// GroupKind names a kind of resource ("" is the core group).
type GroupKind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}
