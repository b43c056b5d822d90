//go:build linux

package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/tree"
	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// Benchmarks of gen's server-side apply against kubectl's on the same kind of
// API server (this repository's test control plane), interleaved in one run.
// Each reports the medians of both and their ratio (gen/kubectl): absolute
// times on a shared 2-core machine mean little, the ratio is the figure.
//
//	go test -run '^$' -bench . -benchtime 5x ./test/integration/

// kubectlApply runs /usr/bin/kubectl apply --server-side on a YAML file.
func kubectlApply(b *testing.B, kubeconfig, file string) time.Duration {
	b.Helper()
	start := time.Now()
	cmd := exec.Command("kubectl", "--kubeconfig", kubeconfig, "apply", "--server-side", "--force-conflicts", "--field-manager", kube.FieldManager, "-f", file)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	return time.Since(start)
}

// writeYAML writes objs, CRDs and Namespaces first (kubectl applies in file order).
func writeYAML(b *testing.B, objs []*unstructured.Unstructured) string {
	b.Helper()
	var first, rest bytes.Buffer
	for _, o := range objs {
		doc, err := yaml.Marshal(o.Object)
		if err != nil {
			b.Fatal(err)
		}
		target := &rest
		if isFirst(o) {
			target = &first
		}
		target.WriteString("---\n")
		target.Write(doc)
	}
	file := filepath.Join(b.TempDir(), "objects.yaml")
	if err := os.WriteFile(file, append(first.Bytes(), rest.Bytes()...), 0o644); err != nil {
		b.Fatal(err)
	}
	return file
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration{}, ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func report(b *testing.B, gen, kubectl []time.Duration) {
	g, k := median(gen), median(kubectl)
	b.ReportMetric(float64(g.Milliseconds()), "gen-ms")
	b.ReportMetric(float64(k.Milliseconds()), "kubectl-ms")
	b.ReportMetric(float64(g)/float64(k), "gen/kubectl")
	b.ReportMetric(0, "ns/op") // the per-op time includes cluster starts; the metrics above are the figures
}

// BenchmarkArgoCDInstall: gen bootstrap's Argo CD step (the built argocd
// overlay plus the namespaces, staged and concurrent) against kubectl apply
// --server-side --force-conflicts of the same objects, each into a fresh
// control plane (a first install cannot be repeated on one server), alternating.
func BenchmarkArgoCDInstall(b *testing.B) {
	cfg := upstreamtest.Config(b)
	var gen, kubectl []time.Duration
	for i := 0; i < b.N; i++ {
		order := []string{"gen", "kubectl"}
		if i%2 == 1 {
			order = []string{"kubectl", "gen"}
		}
		for _, side := range order {
			cluster := testcluster.Start(b)
			objs := installObjects(b, cfg)
			switch side {
			case "gen":
				a := newApplierB(b, cluster)
				start := time.Now()
				if _, err := a.ApplyStaged(context.Background(), objs, kube.Options{Force: true}, 8); err != nil {
					b.Fatal(err)
				}
				gen = append(gen, time.Since(start))
			case "kubectl":
				kubectl = append(kubectl, kubectlApply(b, cluster.KubeconfigPath(), writeYAML(b, objs)))
			}
			cluster.Stop()
		}
	}
	report(b, gen, kubectl)
}

// BenchmarkTreeReapply: a second apply of the whole rancher-desktop tree
// (what bootstrap re-runs and Argo CD self-heal cost), gen against kubectl,
// on one API server in one run.
func BenchmarkTreeReapply(b *testing.B) {
	cfg := upstreamtest.Config(b)
	cluster := testcluster.Start(b)
	a := newApplierB(b, cluster)
	overlay, _ := renderedTree(b, cfg, "rancher-desktop")
	if _, err := a.ApplyStaged(context.Background(), overlay, kube.Options{Force: true}, 8); err != nil {
		b.Fatal(err)
	}
	file := writeYAML(b, overlay)
	var gen, kubectl []time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := a.ApplyStaged(context.Background(), overlay, kube.Options{Force: true}, 8); err != nil {
			b.Fatal(err)
		}
		gen = append(gen, time.Since(start))
		kubectl = append(kubectl, kubectlApply(b, cluster.KubeconfigPath(), file))
	}
	report(b, gen, kubectl)
}

func newApplierB(b *testing.B, cluster *testcluster.Cluster) *kube.Applier {
	a, err := kube.NewApplier(cluster.RestConfig())
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// installObjects are what bootstrap's argocd step applies: the platform
// namespaces and the built Argo CD overlay, with the pinned install.yaml from
// the upstream folder in place of its URL (bootstrap's fetch step does the
// same with what it downloads).
func installObjects(b *testing.B, cfg config.Platform) []*unstructured.Unstructured {
	b.Helper()
	cfg.Complete()
	rendered, err := tree.New(cfg, "rancher-desktop")
	if err != nil {
		b.Fatal(err)
	}
	dir, err := upstreamtest.Dir()
	if err != nil {
		b.Fatal(err)
	}
	install, err := os.ReadFile(filepath.Join(dir, "argo-cd", "v"+cfg.Spec.ArgoCD.Version, "install.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	if err := rendered.UseInstall(argocd.InstallURL(cfg), install); err != nil {
		b.Fatal(err)
	}
	argoObjs, namespaceObjs, err := rendered.Install()
	if err != nil {
		b.Fatal(err)
	}
	return append(namespaceObjs, argoObjs...)
}
