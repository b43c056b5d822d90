package component

import (
	"sigs.k8s.io/kustomize/api/types"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/manifest"
)

// Component is one unit of the platform: one base folder in manifests/, one
// overlay folder per environment, and one Argo CD Application.
type Component struct {
	// Name is the folder under manifests/ and overlays/<env>/, and the Application's name.
	Name string
	// Namespace is where the Application deploys namespaced objects that carry no namespace.
	Namespace string
	// Wave orders the Applications in the app-of-apps (argocd.argoproj.io/sync-wave).
	Wave int
	// Files are the objects the generator authors, by file name in the base folder.
	Files []File
	// Remote are upstream resources referenced by exact URL (CRDs, Argo CD's install).
	Remote []string
	// Patches are applied in the base (used for upstream objects we do not author).
	Patches []types.Patch
	// Images rewrite image references of upstream resources (the registry mirror).
	Images []types.Image
	// KustomizeNamespace, when set, is the base kustomization's namespace: field.
	KustomizeNamespace string
	// IgnoreDifferences are fields owned at run time by something other than Git.
	IgnoreDifferences []IgnoreDifference
	// Overlay returns the patches an environment applies on top of the base.
	Overlay func(env config.Environment) ([]types.Patch, error)
}

// File is one base file: a name and the objects in it.
type File struct {
	Name    string
	Objects []manifest.Object
}

// IgnoreDifference is a field Argo CD must not fight over (see Application.spec.ignoreDifferences).
type IgnoreDifference struct {
	Group             string
	Kind              string
	Name              string
	JQPathExpressions []string
}
