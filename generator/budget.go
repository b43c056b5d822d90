package generator

import (
	"fmt"
	"path"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/generator/budget"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/manifest"
	"github.com/rdspark/gen/generator/sparkoperator"
)

// Budget adds up the requests of env's pods, read from the rendered tree ms
// itself: every Deployment of the environment's overlays as kustomize builds
// it (so overlay patches count), k3s's system pods, and the first example
// SparkApplication's driver and executors. Jobs are left out: the bucket
// Jobs finish in their Application's wave, before the later waves start.
// The Argo CD pods of the upstream install request nothing.
func Budget(cfg config.Platform, ms []manifest.Manifest, env config.Environment) (budget.Budget, error) {
	b := budget.Budget{Environment: env.Name, Capacity: env.Capacity}
	components, err := Components(cfg)
	if err != nil {
		return b, err
	}
	// Only the files with Deployments and the overlay's kustomization go into
	// the build: a component's other objects (a Role per job namespace, so
	// thousands with many tenants) would cost kustomize quadratic time for
	// nothing the budget reads.
	fs := filesys.MakeFsInMemory()
	rendered := make(map[string][]byte, len(ms))
	for _, m := range ms {
		rendered[m.Path] = m.Content
	}
	kustomizer := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	for _, c := range components {
		files := deploymentFiles(c)
		if len(files) == 0 {
			continue
		}
		base := path.Join(ManifestsDir, c.Name)
		overlay := path.Join(OverlaysDir, env.Name, c.Name, "kustomization.yaml")
		k, err := manifest.File(path.Join(base, "kustomization.yaml"), baseKustomization(c, files, false))
		if err != nil {
			return b, err
		}
		write := map[string][]byte{k.Path: k.Content, overlay: rendered[overlay]}
		for _, f := range files {
			write[path.Join(base, f.Name)] = rendered[path.Join(base, f.Name)]
		}
		for p, content := range write {
			if content == nil {
				return b, fmt.Errorf("budget of %s: %s is not in the rendered tree", env.Name, p)
			}
			if err := fs.WriteFile("/"+p, content); err != nil {
				return b, err
			}
		}
		res, err := kustomizer.Run(fs, "/"+path.Join(OverlaysDir, env.Name, c.Name))
		if err != nil {
			return b, fmt.Errorf("budget of %s: build %s: %w", env.Name, c.Name, err)
		}
		for _, r := range res.Resources() {
			if r.GetKind() != "Deployment" {
				continue
			}
			raw, err := r.AsYAML()
			if err != nil {
				return b, err
			}
			var d appsv1.Deployment
			if err := yaml.Unmarshal(raw, &d); err != nil {
				return b, fmt.Errorf("budget of %s: %s: %w", env.Name, r.CurId(), err)
			}
			replicas := int64(1)
			if d.Spec.Replicas != nil {
				replicas = int64(*d.Spec.Replicas)
			}
			cpu, memory := budget.PodRequests(d.Spec.Template.Spec)
			name := d.Namespace + "/" + d.Name
			if replicas > 1 {
				name += fmt.Sprintf(" (%d replicas)", replicas)
			}
			b.Items = append(b.Items, budget.Item{Name: name, CPU: times(cpu, replicas), Memory: times(memory, replicas)})
		}
	}
	b.Items = append(b.Items, budget.K3sSystemPods()...)
	examples, err := sparkoperator.Examples(cfg)
	if err != nil {
		return b, err
	}
	for _, f := range examples {
		for _, o := range f.Objects {
			app, ok := o.(*sparkoperator.SparkApplication)
			if !ok {
				continue
			}
			items, err := applicationItems(app)
			if err != nil {
				return b, fmt.Errorf("budget of %s: example %s: %w", env.Name, app.Name, err)
			}
			b.Items = append(b.Items, items...)
			return b, nil // one example application at a time
		}
	}
	return b, nil
}

// deploymentFiles are the component's files that hold a Deployment.
func deploymentFiles(c component.Component) []component.File {
	var out []component.File
	for _, f := range c.Files {
		for _, o := range f.Objects {
			if _, ok := o.(*appsv1.Deployment); ok {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func times(q resource.Quantity, n int64) resource.Quantity {
	out := resource.Quantity{Format: q.Format}
	for range n {
		out.Add(q)
	}
	return out
}

// applicationItems are a SparkApplication's driver and executors.
func applicationItems(app *sparkoperator.SparkApplication) ([]budget.Item, error) {
	cpu, memory, err := app.Spec.Driver.PodRequests()
	if err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	items := []budget.Item{{Name: "example " + app.Name + ": driver", CPU: cpu, Memory: memory}}
	cpu, memory, err = app.Spec.Executor.PodRequests()
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	n := int64(1)
	if app.Spec.Executor.Instances != nil {
		n = int64(*app.Spec.Executor.Instances)
	}
	return append(items, budget.Item{Name: fmt.Sprintf("example %s: %d executor(s)", app.Name, n), CPU: times(cpu, n), Memory: times(memory, n)}), nil
}
