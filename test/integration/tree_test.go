//go:build linux

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/kustomize"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/testtree"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// warnings records the API server's Warning headers (Pod Security Admission
// reports violations of the namespace's warn level this way).
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// renderedTree renders cfg into a temp dir and returns the objects of every
// overlay folder of env (components in sync-wave order, then the apps and
// the root Application), and the examples.
func renderedTree(t testing.TB, cfg config.Platform, env string) (overlay, examples []*unstructured.Unstructured) {
	t.Helper()
	out := testtree.Write(t, cfg)
	components, err := generator.Components(cfg)
	if err != nil {
		t.Fatal(err)
	}
	folders := []string{}
	for _, c := range components {
		folders = append(folders, c.Name)
	}
	folders = append(folders, "apps", "root")
	for _, f := range folders {
		objs := testtree.Build(t, out, generator.OverlaysDir, env, f)
		overlay = append(overlay, objs...)
	}
	examples, err = kustomize.BuildFS(filesys.MakeFsOnDisk(), filepath.Join(out, generator.ExamplesDir))
	if err != nil {
		// examples/ has no kustomization: read the files directly.
		examples = readExamples(t, filepath.Join(out, generator.ExamplesDir))
	}
	return overlay, examples
}

func readExamples(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, decodeYAML(t, b)...)
	}
	return objs
}

func isFirst(o *unstructured.Unstructured) bool {
	return o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition"
}

// TestTreeAppliesOnARealAPIServer is issue 3's proof, for every environment
// of the default config and of a config with two environments.
func TestTreeAppliesOnARealAPIServer(t *testing.T) {
	configs := map[string]func(argo, spark string) config.Platform{
		"default": upstreamtest.ConfigFor,
		"two-environments": func(argo, spark string) config.Platform {
			cfg := upstreamtest.ConfigFor(argo, spark)
			cfg.Spec.Environments = append(cfg.Spec.Environments, config.Environment{
				Name: "cluster", Domain: "spark.acme.example", IngressClassName: "nginx",
			})
			cfg.Spec.SparkOperator.JobNamespaces = []string{"analytics", "etl"}
			cfg.Spec.SparkOperator.Webhook = false
			cfg.Spec.Images.RegistryMirror = "registry.acme.internal/mirror"
			cfg.Complete()
			return cfg
		},
		// The laptop with SeaweedFS and two tenants (quota, LimitRange,
		// RBAC, NetworkPolicies, AppProjects).
		"seaweedfs-tenants": func(argo, spark string) config.Platform {
			return withUpstream(t, tenantsConfig, argo, spark)
		},
		// configs/cluster.yaml: an external store, TLS, replicas, tenants.
		"cluster": func(argo, spark string) config.Platform {
			src, err := os.ReadFile(filepath.Join("..", "..", "configs", "cluster.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			return withUpstream(t, string(src), argo, spark)
		},
	}
	argo, spark := upstreamtest.Serve(t)
	for name, build := range configs {
		cfg := build(argo, spark)
		for _, env := range cfg.EnvironmentNames() {
			t.Run(name+"/"+env, func(t *testing.T) {
				proveTree(t, cfg, env)
			})
		}
	}
}

func proveTree(t *testing.T, cfg config.Platform, env string) {
	cluster := testcluster.Start(t)
	rec := &warnings{}
	restCfg := cluster.RestConfig()
	restCfg.WarningHandler = rec
	applier, err := kube.NewApplier(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	overlay, examples := renderedTree(t, cfg, env)

	// 1. Namespaces and CRDs (Argo CD's and the Spark Operator's), until Established.
	var first, rest []*unstructured.Unstructured
	for _, o := range overlay {
		if isFirst(o) {
			first = append(first, o)
		} else {
			rest = append(rest, o)
		}
	}
	if _, err := applier.ApplyStaged(ctx, first, kube.Options{}, 1); err != nil {
		t.Fatal(err)
	}
	noWarnings(t, rec, "namespaces and CRDs")

	// 2. The examples, against the real Spark Operator CRD schemas (before
	// the operator's webhook configurations exist: no webhook server runs here).
	for _, dryRun := range []bool{true, false} {
		for _, o := range examples {
			if _, err := applier.ApplyOne(ctx, o, kube.Options{DryRun: dryRun}); err != nil {
				t.Errorf("example: %v", err)
			}
			noWarnings(t, rec, kube.Ref(o))
		}
	}

	// 3. Everything, as a dry run, then for real: zero errors, zero warnings.
	applied := map[string]*unstructured.Unstructured{}
	for _, dryRun := range []bool{true, false} {
		for _, o := range rest {
			got, err := applier.ApplyOne(ctx, o, kube.Options{DryRun: dryRun})
			if err != nil {
				t.Errorf("dry run %v: %v", dryRun, err)
				continue
			}
			noWarnings(t, rec, kube.Ref(o))
			if !dryRun {
				applied[kube.Ref(o)] = got
			}
		}
	}
	if t.Failed() {
		return
	}

	// 4. A second apply of the whole tree changes nothing: the same object,
	// the same managed fields. (The API server bumps resourceVersion on a
	// no-op apply of some kinds, PersistentVolumeClaims here, without
	// changing anything else; that is logged, not failed.)
	again, err := applier.ApplyStaged(ctx, overlay, kube.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var bumped []string
	for _, o := range again {
		before, ok := applied[kube.Ref(o)]
		if !ok {
			continue
		}
		if diff := cmp.Diff(stable(before), stable(o)); diff != "" {
			t.Errorf("second apply changed %s:\n%s", kube.Ref(o), diff)
		} else if before.GetResourceVersion() != o.GetResourceVersion() {
			bumped = append(bumped, kube.Ref(o))
		}
	}
	if len(bumped) > 0 {
		t.Logf("no-op apply bumped only the resourceVersion of: %s", strings.Join(bumped, ", "))
	}
	t.Logf("%s: %d objects applied and stable, %d examples accepted", env, len(overlay), len(examples))
}

// stable is obj without what a no-op write may still touch: resourceVersion
// and the time stamps of managedFields entries.
func stable(obj *unstructured.Unstructured) map[string]any {
	c := obj.DeepCopy()
	c.SetResourceVersion("")
	fields := c.GetManagedFields()
	for i := range fields {
		fields[i].Time = nil
	}
	c.SetManagedFields(fields)
	return c.Object
}

func noWarnings(t *testing.T, rec *warnings, what string) {
	t.Helper()
	for _, w := range rec.take() {
		t.Errorf("%s: API server warning: %s", what, w)
	}
}

// newApplier is for the negative controls.
func newApplier(t *testing.T, cfg *rest.Config) *kube.Applier {
	t.Helper()
	a, err := kube.NewApplier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func wantError(t *testing.T, err error, substrings ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want an error containing %q", substrings)
	}
	for _, s := range substrings {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}
