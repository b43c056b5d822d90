package generator_test

import (
	"bytes"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/generator/image/spark"
	"github.com/rdspark/gen/generator/manifest"
	"github.com/rdspark/gen/generator/tree"
)

var update = flag.Bool("update", false, "rewrite the golden trees under testdata/golden")

// goldenConfigs are the configs with a golden tree: the defaults (Spark 4.0.4),
// one that exercises every switch (two environments, no webhook, two job
// namespaces, a registry mirror, a repository subfolder, Spark 4.0.1 from an own
// image repository), the laptop with SeaweedFS and two tenants, and the team
// cluster example of configs/cluster.yaml (external S3, TLS, replicas,
// tenants). Between them they hold the Dockerfile of every supported Spark
// line (TestGoldenTreesCoverEverySparkLine).
var goldenConfigs = map[string]string{
	"default": "",
	"cluster": mustRead("../configs/cluster.yaml"),
	"seaweedfs-tenants": `apiVersion: gen.rdspark.dev/v1alpha1
kind: Platform
spec:
  objectStore:
    type: seaweedfs
  tenants:
  - name: team-a
  - name: team-b
    groups: [team-b, platform-admins]
    podSecurity: restricted
    quota: {cpu: "2", memory: 8Gi, pods: 20, sparkApplications: 5}
    containerDefaults: {cpu: 100m, memory: 256Mi}
    sourceRepos: [https://github.com/acme/team-b-jobs.git]
`,
	"two-environments": `apiVersion: gen.rdspark.dev/v1alpha1
kind: Platform
spec:
  git:
    repoURL: git@github.com:acme/data-platform.git
    revision: v1.2.0
    path: platform/spark
  images:
    registryMirror: registry.acme.internal/mirror
  environments:
  - name: rancher-desktop
  - name: cluster
    domain: spark.acme.example
    ingressClassName: nginx
    reconciliationTimeout: 3m
  minio:
    storage: 100Gi
    bucket: acme-spark
    eventLogPrefix: history/events
  sparkOperator:
    jobNamespaces: [analytics, etl]
    webhook: false
    controllerWorkers: 4
  spark:
    version: 4.0.1
    image: ghcr.io/acme/spark-s3a
  historyServer:
    cleaner:
      enabled: false
`,
}

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func load(t testing.TB, name string) config.Platform {
	t.Helper()
	cfg, err := config.Load(name, []byte(goldenConfigs[name]))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func render(t testing.TB, cfg config.Platform) []manifest.Manifest {
	t.Helper()
	ms, err := generator.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestGoldenTrees compares each render with the tree under testdata/golden,
// which was read by hand when it was written (go test ./generator -update).
func TestGoldenTrees(t *testing.T) {
	for name := range goldenConfigs {
		t.Run(name, func(t *testing.T) {
			ms := render(t, load(t, name))
			dir := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if _, err := tree.Write(dir, generator.Roots, ms); err != nil {
					t.Fatal(err)
				}
			}
			diffs, err := tree.Check(dir, generator.Roots, ms)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range diffs {
				t.Errorf("%s (run go test ./generator -update and review the diff)", d)
			}
		})
	}
}

// TestGoldenTreesCoverEverySparkLine: each supported Spark line has its
// golden image/Dockerfile, read by hand when it was written.
func TestGoldenTreesCoverEverySparkLine(t *testing.T) {
	covered := map[string]bool{}
	for name := range goldenConfigs {
		cfg := load(t, name)
		release, err := spark.Lookup(cfg.Spec.Spark.Version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join("testdata", "golden", name, filepath.FromSlash(image.DockerfilePath))); err != nil {
			t.Errorf("golden tree %s has no Dockerfile: %v", name, err)
		}
		covered[release.Line.Line] = true
	}
	for _, l := range spark.Lines() {
		if !covered[l.Line] {
			t.Errorf("no golden config uses Spark %s.x: set spec.spark.version in one (or add one) and run go test ./generator -update", l.Line)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	for name := range goldenConfigs {
		first := render(t, load(t, name))
		// Concurrent renders shake out any dependence on map order or shared state.
		var wg sync.WaitGroup
		results := make([][]manifest.Manifest, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = render(t, load(t, name))
			}()
		}
		wg.Wait()
		for _, ms := range results {
			assertSameTree(t, first, ms)
		}
	}
}

// TestShuffledConfigRendersSameBytes reorders every mapping of the config
// file at random: the meaning is the same, so the bytes must be.
func TestShuffledConfigRendersSameBytes(t *testing.T) {
	src := goldenConfigs["two-environments"]
	want := render(t, load(t, "two-environments"))
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		var doc yamlv3.Node
		if err := yamlv3.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		shuffle(&doc, rng)
		shuffled, err := yamlv3.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && string(shuffled) == src {
			continue
		}
		cfg, err := config.Load("shuffled", shuffled)
		if err != nil {
			t.Fatalf("shuffled config: %v\n%s", err, shuffled)
		}
		assertSameTree(t, want, render(t, cfg))
	}
}

func shuffle(n *yamlv3.Node, rng *rand.Rand) {
	if n.Kind == yamlv3.MappingNode {
		pairs := make([][2]*yamlv3.Node, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, [2]*yamlv3.Node{n.Content[i], n.Content[i+1]})
		}
		rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
		n.Content = n.Content[:0]
		for _, p := range pairs {
			n.Content = append(n.Content, p[0], p[1])
		}
	}
	for _, c := range n.Content {
		shuffle(c, rng)
	}
}

func assertSameTree(t *testing.T, want, got []manifest.Manifest) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("render produced %d files, then %d", len(want), len(got))
	}
	for i := range want {
		if want[i].Path != got[i].Path || !bytes.Equal(want[i].Content, got[i].Content) {
			t.Fatalf("render differs at %s / %s", want[i].Path, got[i].Path)
		}
	}
}

func TestEveryFileHasTheHeaderAndNoGeneratedNoise(t *testing.T) {
	cfg := load(t, "default")
	for _, m := range render(t, cfg) {
		first, _, _ := strings.Cut(string(m.Content), "\n")
		if first+"\n" != manifest.Header(generator.Version) || !strings.Contains(first, generator.Version) {
			t.Errorf("%s: header %q is not gen %s's header", m.Path, first, generator.Version)
		}
		for _, noise := range []string{"creationTimestamp", "status: {}", "\t"} {
			if strings.Contains(string(m.Content), noise) {
				t.Errorf("%s contains %q", m.Path, noise)
			}
		}
	}
}

// A config edit changes only the files whose content it changes: a bigger
// MinIO volume touches the MinIO base (the claim), nothing else; in
// particular no header and not the History Server, whose pods would roll.
func TestConfigEditChangesOnlyItsFiles(t *testing.T) {
	before := render(t, load(t, "default"))
	cfg := load(t, "default")
	cfg.Spec.MinIO.Storage = "50Gi"
	after := render(t, cfg)
	var changed []string
	for i := range before {
		if before[i].Path != after[i].Path {
			t.Fatalf("file lists differ at %s / %s", before[i].Path, after[i].Path)
		}
		if string(before[i].Content) != string(after[i].Content) {
			changed = append(changed, before[i].Path)
		}
	}
	if strings.Join(changed, " ") != "manifests/minio/persistentvolumeclaim.yaml" {
		t.Errorf("a MinIO storage edit changed %v, want only manifests/minio/persistentvolumeclaim.yaml", changed)
	}
}

func TestConfigHashFollowsTheConfig(t *testing.T) {
	a, _ := generator.ConfigHash(load(t, "default"))
	b, _ := generator.ConfigHash(load(t, "two-environments"))
	if a == b {
		t.Error("two different configs have the same hash")
	}
}

// TestNoSecretDataInTheTree: the tree references the credentials Secret by
// name and never contains a Secret or anything that looks like a credential.
func TestNoSecretDataInTheTree(t *testing.T) {
	for name := range goldenConfigs {
		for _, m := range render(t, load(t, name)) {
			s := string(m.Content)
			for _, bad := range []string{"kind: Secret\n", "stringData:", "password:", "MINIO_ROOT_PASSWORD\n          value:", "AWS_SECRET_ACCESS_KEY\n          value:"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s/%s contains %q", name, m.Path, bad)
				}
			}
		}
	}
}

func TestPathsAreUnderTheRoots(t *testing.T) {
	var paths []string
	for _, m := range render(t, load(t, "two-environments")) {
		if !manifest.SafePath(m.Path) {
			t.Errorf("unsafe path %q", m.Path)
		}
		paths = append(paths, m.Path)
	}
	if !sort.StringsAreSorted(paths) {
		t.Error("manifests are not sorted by path")
	}
}

// TestCommittedTreeIsFresh: manifests/, overlays/ and examples/ at the
// repository root are the rendered default config, byte for byte.
func TestCommittedTreeIsFresh(t *testing.T) {
	root := ".."
	if _, err := os.Stat(filepath.Join(root, "gen.yaml")); err == nil {
		t.Fatal("this repository commits the default tree; a gen.yaml at its root would change it")
	}
	cfg, err := config.Load("defaults", nil)
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := tree.Check(root, generator.Roots, render(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("%s: run make render and commit", d)
	}
}
