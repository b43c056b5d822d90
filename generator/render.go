package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"sort"

	"sigs.k8s.io/kustomize/api/types"

	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/history"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/generator/manifest"
	"github.com/rdspark/gen/generator/minio"
	"github.com/rdspark/gen/generator/seaweedfs"
	"github.com/rdspark/gen/generator/sparkoperator"
	"github.com/rdspark/gen/generator/tenants"
)

// Version of the generator, written into every file header. It is a constant
// (not the build's VCS stamp) so that the same config renders the same bytes
// from any build of one release.
const Version = "v0.1.0"

// Top-level folders gen owns in the output root.
const (
	ManifestsDir = "manifests"
	OverlaysDir  = "overlays"
	ExamplesDir  = "examples"
	// ImageDir holds image/Dockerfile, the Spark + S3A image built from spec.spark.
	ImageDir = image.Dir
)

// Roots are the folders the tree writer manages.
var Roots = []string{ExamplesDir, ImageDir, ManifestsDir, OverlaysDir}

// Render validates cfg and renders the whole tree, sorted by path. On error
// nothing is returned, so a caller never writes half a tree.
func Render(cfg config.Platform) ([]manifest.Manifest, error) {
	cfg.Complete()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config:\n%w", err)
	}
	hash, err := ImageConfigHash(cfg)
	if err != nil {
		return nil, err
	}
	components, err := Components(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkWorkloads(components); err != nil {
		return nil, fmt.Errorf("render: a workload misses what every pod gen authors must have:\n%w", err)
	}

	var out []manifest.Manifest
	add := func(m manifest.Manifest, err error) error {
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	}
	for _, c := range components {
		if err := renderBase(c, add); err != nil {
			return nil, fmt.Errorf("render %s: %w", c.Name, err)
		}
	}
	for _, env := range cfg.Spec.Environments {
		if err := renderEnvironment(cfg, env, components, add); err != nil {
			return nil, fmt.Errorf("render environment %s: %w", env.Name, err)
		}
	}
	examples, err := sparkoperator.Examples(cfg)
	if err != nil {
		return nil, fmt.Errorf("render examples: %w", err)
	}
	for _, f := range examples {
		if err := add(manifest.File(path.Join(ExamplesDir, f.Name), f.Objects...)); err != nil {
			return nil, fmt.Errorf("render examples: %w", err)
		}
	}
	dockerfile, err := image.Dockerfile(cfg, hash)
	if err != nil {
		return nil, fmt.Errorf("render image: %w", err)
	}
	out = append(out, manifest.Manifest{Path: image.DockerfilePath, Content: dockerfile})

	// Does it fit? Checked on the rendered overlays, before anything is written.
	for _, env := range cfg.Spec.Environments {
		if (env.Capacity == config.Capacity{}) {
			continue
		}
		b, err := Budget(cfg, out, env)
		if err != nil {
			return nil, err
		}
		if err := b.Check(); err != nil {
			return nil, fmt.Errorf("render environment %s: %w", env.Name, err)
		}
	}

	header := manifest.Header(Version)
	for i := range out {
		out[i].Content = manifest.WithHeader(header, out[i].Content)
	}
	manifest.Sort(out)
	return out, nil
}

// Components are the platform's parts in sync-wave order: the object store
// is the one spec.objectStore.type selects (none for an external store), and
// the tenants come last when there are any.
func Components(cfg config.Platform) ([]component.Component, error) {
	builders := []func(config.Platform) (component.Component, error){
		argocd.Component,
		func(cfg config.Platform) (component.Component, error) { return namespaces(cfg), nil },
		func(cfg config.Platform) (component.Component, error) { return sparkoperator.CRDs(cfg), nil },
	}
	switch cfg.Spec.ObjectStore.Type {
	case config.ObjectStoreMinIO:
		builders = append(builders, minio.Component)
	case config.ObjectStoreSeaweedFS:
		builders = append(builders, seaweedfs.Component)
	}
	builders = append(builders,
		sparkoperator.Component,
		func(cfg config.Platform) (component.Component, error) { return sparkoperator.Jobs(cfg), nil },
		history.Component,
	)
	components := make([]component.Component, 0, len(builders)+1)
	for _, build := range builders {
		c, err := build(cfg)
		if err != nil {
			return nil, err
		}
		components = append(components, c)
	}
	if t := tenants.Component(cfg); t != nil {
		components = append(components, *t)
	}
	return components, nil
}

// namespaces are the platform's namespaces, first of all with the CRDs:
// restricted where gen authors every pod, baseline for Spark jobs (users'
// pods, which the operator builds from their SparkApplications), and each
// tenant's at the tenant's level. Tenant namespaces are here, not with the
// rest of the tenant, so that gen bootstrap creates them with the others and
// can copy the credentials Secret into them.
func namespaces(cfg config.Platform) component.Component {
	var objs []any
	for _, ns := range []string{component.MinIONamespace, component.SparkOperatorNamespace, component.HistoryNamespace} {
		n := component.Namespace(ns, component.Restricted)
		// Deleting a platform namespace deletes its data (the object store's
		// volume): that is gen teardown's job, never a side effect of a sync,
		// nor of deleting the Application (Delete=false keeps it on cascade).
		n.Annotations = map[string]string{"argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}
		objs = append(objs, n)
	}
	for _, ns := range cfg.Spec.SparkOperator.JobNamespaces {
		objs = append(objs, component.Namespace(ns, component.Baseline))
	}
	for _, t := range cfg.Spec.Tenants {
		objs = append(objs, tenants.Namespace(t))
	}
	return component.Component{
		Name:  "namespaces",
		Wave:  0,
		Files: []component.File{{Name: "namespaces.yaml", Objects: objs}},
		// Namespaces are cluster-scoped; the destination namespace is unused.
		Namespace: component.ArgoCDNamespace,
	}
}

func renderBase(c component.Component, add func(manifest.Manifest, error) error) error {
	dir := path.Join(ManifestsDir, c.Name)
	for _, f := range c.Files {
		if err := add(manifest.File(path.Join(dir, f.Name), f.Objects...)); err != nil {
			return err
		}
	}
	return add(manifest.File(path.Join(dir, "kustomization.yaml"), baseKustomization(c, c.Files, true)))
}

// baseKustomization lists files (and the upstream URLs, when remote) with
// the component's namespace, patches and images.
func baseKustomization(c component.Component, files []component.File, remote bool) *types.Kustomization {
	k := kustomization()
	k.Namespace = c.KustomizeNamespace
	if remote {
		k.Resources = append(k.Resources, c.Remote...)
	}
	for _, f := range files {
		k.Resources = append(k.Resources, f.Name)
	}
	k.Patches = c.Patches
	k.Images = c.Images
	return k
}

func renderEnvironment(cfg config.Platform, env config.Environment, components []component.Component, add func(manifest.Manifest, error) error) error {
	dir := path.Join(OverlaysDir, env.Name)
	apps := kustomization()
	apps.Resources = []string{"appproject.yaml"}
	if err := add(manifest.File(path.Join(dir, "apps", "appproject.yaml"), argocd.PlatformProject(cfg))); err != nil {
		return err
	}
	for _, c := range components {
		k := kustomization()
		k.Resources = []string{path.Join("..", "..", "..", ManifestsDir, c.Name)}
		if c.Overlay != nil {
			patches, err := c.Overlay(env)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			k.Patches = patches
		}
		if err := add(manifest.File(path.Join(dir, c.Name, "kustomization.yaml"), k)); err != nil {
			return err
		}
		file := "application-" + c.Name + ".yaml"
		apps.Resources = append(apps.Resources, file)
		if err := add(manifest.File(path.Join(dir, "apps", file), argocd.ComponentApplication(cfg, env.Name, c))); err != nil {
			return err
		}
	}
	sort.Strings(apps.Resources)
	if err := add(manifest.File(path.Join(dir, "apps", "kustomization.yaml"), apps)); err != nil {
		return err
	}
	root := kustomization()
	root.Resources = []string{"application-root.yaml"}
	if err := add(manifest.File(path.Join(dir, "root", "application-root.yaml"), argocd.RootApplication(cfg, env.Name))); err != nil {
		return err
	}
	return add(manifest.File(path.Join(dir, "root", "kustomization.yaml"), root))
}

func kustomization() *types.Kustomization {
	return &types.Kustomization{TypeMeta: types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind}}
}

// ConfigHash is a short digest of the completed config: two configs that
// mean the same (however they are formatted) hash the same.
func ConfigHash(cfg config.Platform) (string, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("hash config: %w", err)
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])[:12], nil
}

// ImageConfigHash is the ConfigHash of the part of cfg the Spark image is
// built from (spec.spark, spec.images): the Dockerfile's label changes with
// them, not with every config edit.
func ImageConfigHash(cfg config.Platform) (string, error) {
	return ConfigHash(config.Platform{Spec: config.Spec{Spark: cfg.Spec.Spark, Images: cfg.Spec.Images}})
}
