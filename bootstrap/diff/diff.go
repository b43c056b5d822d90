// Package diff shows what an Argo CD sync of an environment would change: a
// server-side dry-run apply of every rendered object (with Argo CD's field
// manager) compared with the live object.
package diff

import (
	"context"
	"fmt"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/tree"
	"github.com/rdspark/gen/generator/config"
)

// ArgoCDFieldManager is the manager Argo CD's server-side apply uses, so the
// dry run sees the same field ownership a sync would.
const ArgoCDFieldManager = "argocd-controller"

// Change is one object a sync would create or modify.
type Change struct {
	Ref string
	// Action is "create" or "update".
	Action string
	// Diff is a unified diff of the object (live, then after the sync).
	Diff string
}

// Run diffs every object of env's tree (components, apps and root Application).
func Run(ctx context.Context, restCfg *rest.Config, cfg config.Platform, env string) ([]Change, error) {
	cfg.Complete()
	rendered, err := tree.New(cfg, env)
	if err != nil {
		return nil, err
	}
	names, built, err := rendered.Components()
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, n := range names {
		objs = append(objs, built[n]...)
	}
	for _, folder := range []string{"apps", "root"} {
		more, err := rendered.Build(folder)
		if err != nil {
			return nil, err
		}
		objs = append(objs, more...)
	}
	applier, err := kube.NewApplier(restCfg)
	if err != nil {
		return nil, err
	}
	applier.FieldManager = ArgoCDFieldManager
	applier.NewKindGrace = 0 // a missing CRD means "create", not "wait"
	var changes []Change
	for _, o := range objs {
		live, err := applier.Get(ctx, o)
		if err != nil && !cluster.IsNoKind(err) {
			return nil, fmt.Errorf("read %s: %w", kube.Ref(o), err)
		}
		if live == nil {
			changes = append(changes, Change{Ref: kube.Ref(o), Action: "create", Diff: unified("", render(o.Object), kube.Ref(o))})
			continue
		}
		after, err := applier.ApplyOne(ctx, o, kube.Options{DryRun: true, Force: true})
		if err != nil {
			return nil, fmt.Errorf("dry-run %w", err)
		}
		before, next := render(normalize(live)), render(normalize(after))
		if before != next {
			changes = append(changes, Change{Ref: kube.Ref(o), Action: "update", Diff: unified(before, next, kube.Ref(o))})
		}
	}
	return changes, nil
}

// normalize drops what the server maintains and a sync never sets.
func normalize(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(c.Object, "status")
	return c.Object
}

func render(obj map[string]any) string {
	b, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func unified(before, after, name string) string {
	d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(before), B: difflib.SplitLines(after),
		FromFile: "live/" + name, ToFile: "tree/" + name, Context: 3,
	})
	return d
}
