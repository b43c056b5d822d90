// Package tree holds the rendered tree in memory and builds its overlays, for
// every command that compares the tree with a cluster (bootstrap, status,
// diff, teardown): what they apply or read is exactly what gen render writes
// for the config. It is a leaf: it renders and builds, and never talks to a
// cluster.
package tree

import (
	"fmt"
	"path"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/bootstrap/kustomize"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/budget"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/manifest"
)

// Tree is the rendered tree in memory: bootstrap builds from the config
// itself, so what it applies is exactly what gen render writes for it.
type Tree struct {
	fs  filesys.FileSystem
	env string
	cfg config.Platform
	ms  []manifest.Manifest
}

const treeRoot = "/tree"

// New renders cfg in memory for environment env.
func New(cfg config.Platform, env string) (*Tree, error) {
	ms, err := generator.Render(cfg)
	if err != nil {
		return nil, err
	}
	fs := filesys.MakeFsInMemory()
	for _, m := range ms {
		p := path.Join(treeRoot, m.Path)
		if err := fs.MkdirAll(path.Dir(p)); err != nil {
			return nil, err
		}
		if err := fs.WriteFile(p, m.Content); err != nil {
			return nil, err
		}
	}
	return &Tree{fs: fs, env: env, cfg: cfg, ms: ms}, nil
}

// Budget is what the environment's pods request (see generator.Budget).
func (t *Tree) Budget() (budget.Budget, error) {
	cfg := t.cfg
	cfg.Complete()
	env, ok := cfg.Environment(t.env)
	if !ok {
		return budget.Budget{}, fmt.Errorf("unknown environment %q", t.env)
	}
	return generator.Budget(cfg, t.ms, env)
}

// Build builds overlays/<env>/<folder>.
func (t *Tree) Build(folder string) ([]*unstructured.Unstructured, error) {
	return kustomize.BuildFS(t.fs, path.Join(treeRoot, generator.OverlaysDir, t.env, folder))
}

// Components builds every component overlay of the environment, in
// sync-wave order, keyed by component name.
func (t *Tree) Components() ([]string, map[string][]*unstructured.Unstructured, error) {
	components, err := generator.Components(t.cfg)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(components))
	built := map[string][]*unstructured.Unstructured{}
	for _, c := range components {
		objs, err := t.Build(c.Name)
		if err != nil {
			return nil, nil, err
		}
		names = append(names, c.Name)
		built[c.Name] = objs
	}
	return names, built, nil
}

// Install builds the Argo CD overlay and the namespaces overlay.
func (t *Tree) Install() (argoObjs, namespaceObjs []*unstructured.Unstructured, err error) {
	if argoObjs, err = t.Build(argocd.Name); err != nil {
		return nil, nil, fmt.Errorf("build Argo CD install: %w", err)
	}
	if namespaceObjs, err = t.Build("namespaces"); err != nil {
		return nil, nil, err
	}
	return argoObjs, namespaceObjs, nil
}

// UseInstall replaces the upstream install URL of manifests/argocd with
// content (from --argocd-manifests), for offline and mirrored installs.
func (t *Tree) UseInstall(installURL string, content []byte) error {
	dir := path.Join(treeRoot, generator.ManifestsDir, argocd.Name)
	kfile := path.Join(dir, "kustomization.yaml")
	raw, err := t.fs.ReadFile(kfile)
	if err != nil {
		return err
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(raw, &k); err != nil {
		return err
	}
	replaced := false
	for i, r := range k.Resources {
		if r == installURL {
			k.Resources[i] = "upstream-install.yaml"
			replaced = true
		}
	}
	if !replaced {
		return fmt.Errorf("manifests/argocd does not reference %s", installURL)
	}
	out, err := yaml.Marshal(&k)
	if err != nil {
		return err
	}
	if err := t.fs.WriteFile(kfile, out); err != nil {
		return err
	}
	return t.fs.WriteFile(path.Join(dir, "upstream-install.yaml"), content)
}
