package app

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runGen(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = Run(args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), err
}

// snapshot reads every file under dir (path -> content).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

const header = "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n"

// TestBadConfigsNameTheFieldAndWriteNothing renders a good tree first, then
// each bad config over it: the error must name the field path and the tree
// (and the rest of the folder) must be byte-for-byte what it was.
func TestBadConfigsNameTheFieldAndWriteNothing(t *testing.T) {
	cases := []struct {
		name, spec, wantPath string
	}{
		{"bad storage quantity", "  minio:\n    storage: 10Gx\n", "spec.minio.storage"},
		{"zero storage", "  minio:\n    storage: \"0\"\n", "spec.minio.storage"},
		{"bad bucket", "  minio:\n    bucket: Spark_Logs\n", "spec.minio.bucket"},
		{"prefix with leading slash", "  minio:\n    eventLogPrefix: /logs\n", "spec.minio.eventLogPrefix"},
		{"secret name not DNS", "  minio:\n    credentialsSecret: Minio Root\n", "spec.minio.credentialsSecret"},
		{"unpinned minio image", "  minio:\n    image: quay.io/minio/minio\n", "spec.minio.image"},
		{"latest minio image", "  minio:\n    image: quay.io/minio/minio:latest\n", "spec.minio.image"},
		{"request above limit", "  minio:\n    resources:\n      requests:\n        cpu: \"4\"\n", "spec.minio.resources.requests.cpu"},
		{"bad memory limit", "  historyServer:\n    resources:\n      limits:\n        memory: lots\n", "spec.historyServer.resources.limits.memory"},
		{"env name not a DNS label", "  environments:\n  - name: Rancher_Desktop\n    nodeIP: 192.168.64.3\n", "spec.environments[0].name"},
		{"node IP that is not one", "  environments:\n  - name: laptop\n    nodeIP: 192.168.64.300\n", "spec.environments[0].nodeIP"},
		{"no domain and no node IP", "  environments:\n  - name: cluster\n", "spec.environments[0].domain"},
		{"bad domain", "  environments:\n  - name: cluster\n    domain: -bad-.example.com\n", "spec.environments[0].domain"},
		{"duplicate environment", "  environments:\n  - name: a\n    domain: a.example.com\n  - name: a\n    domain: b.example.com\n", "spec.environments[1].name"},
		{"bad reconciliation timeout", "  environments:\n  - name: a\n    domain: a.example.com\n    reconciliationTimeout: soon\n", "spec.environments[0].reconciliationTimeout"},
		{"no environments", "  environments: []\n", "spec.environments"},
		{"env resource override", "  environments:\n  - name: a\n    domain: a.example.com\n    resources:\n      minio:\n        requests: {cpu: x, memory: 1Gi}\n        limits: {cpu: 1, memory: 1Gi}\n", "spec.environments[0].resources.minio.requests.cpu"},
		{"repo URL without scheme", "  git:\n    repoURL: github.com/me/platform\n", "spec.git.repoURL"},
		{"repo path escaping", "  git:\n    path: ../elsewhere\n", "spec.git.path"},
		{"absolute repo path", "  git:\n    path: /etc\n", "spec.git.path"},
		{"empty revision", "  git:\n    revision: \"\"\n", "spec.git.revision"},
		{"argocd version does not parse", "  argocd:\n    version: three\n", "spec.argocd.version"},
		{"argocd 2.x is end of life", "  argocd:\n    version: 2.14.0\n", "spec.argocd.version"},
		{"manifests URL without scheme", "  argocd:\n    manifestsBaseURL: raw.githubusercontent.com/argoproj/argo-cd\n", "spec.argocd.manifestsBaseURL"},
		{"operator version", "  sparkOperator:\n    version: 1.1.27\n", "spec.sparkOperator.version"},
		{"CRD URL with trailing slash", "  sparkOperator:\n    crdBaseURL: https://example.com/spark/\n", "spec.sparkOperator.crdBaseURL"},
		{"job namespace not a label", "  sparkOperator:\n    jobNamespaces: [Spark.Jobs]\n", "spec.sparkOperator.jobNamespaces[0]"},
		{"job namespace is a platform namespace", "  sparkOperator:\n    jobNamespaces: [spark-jobs, minio]\n", "spec.sparkOperator.jobNamespaces[1]"},
		{"duplicate job namespace", "  sparkOperator:\n    jobNamespaces: [a, a]\n", "spec.sparkOperator.jobNamespaces[1]"},
		{"no job namespace", "  sparkOperator:\n    jobNamespaces: []\n", "spec.sparkOperator.jobNamespaces"},
		{"zero workers", "  sparkOperator:\n    controllerWorkers: 0\n", "spec.sparkOperator.controllerWorkers"},
		{"spark image with a tag (gen derives it)", "  spark:\n    image: ghcr.io/rdspark/spark-s3a:4.0.4\n", "spec.spark.image: Invalid value"},
		{"spark image not a reference", "  spark:\n    image: Not An Image\n", "spec.spark.image: Invalid value"},
		{"spark of another line than the operator", "  spark:\n    version: 3.5.8\n", "spec.spark.version: Invalid value"},
		{"historyServer.image moved to spec.spark", "  historyServer:\n    image: ghcr.io/rdspark/spark-s3a\n", "spec.historyServer.image: unknown field"},
		{"log directory not s3a", "  historyServer:\n    logDirectory: s3://spark/logs\n", "spec.historyServer.logDirectory"},
		{"cleaner interval", "  historyServer:\n    cleaner:\n      interval: daily\n", "spec.historyServer.cleaner.interval"},
		{"registry mirror with scheme", "  images:\n    registryMirror: https://registry.example.com\n", "spec.images.registryMirror"},
		{"unknown field", "  minio:\n    storge: 10Gi\n", "spec.minio.storge"},
	}
	if len(cases) < 20 {
		t.Fatalf("only %d bad configs", len(cases))
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "tree")
	if _, _, err := runGen(t, "render", "--out", out, "-q"); err != nil {
		t.Fatalf("render defaults: %v", err)
	}
	before := snapshot(t, dir)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfgPath := filepath.Join(t.TempDir(), "gen.yaml")
			if err := os.WriteFile(cfgPath, []byte(header+tc.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := runGen(t, "render", "-c", cfgPath, "--out", out)
			if err == nil {
				t.Fatal("render accepted a bad config")
			}
			if !strings.Contains(err.Error(), tc.wantPath) {
				t.Errorf("error does not name %s:\n%v", tc.wantPath, err)
			}
			if after := snapshot(t, dir); !equalMaps(before, after) {
				t.Error("a failed render changed files on disk")
			}
			// The same config into a fresh folder creates nothing at all.
			fresh := filepath.Join(t.TempDir(), "fresh")
			if _, _, err := runGen(t, "render", "-c", cfgPath, "--out", fresh); err == nil {
				t.Fatal("render accepted a bad config")
			}
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("a failed render created %s", fresh)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestRenderCheckAndRerender(t *testing.T) {
	out := t.TempDir()
	if _, stderr, err := runGen(t, "render", "--out", out); err != nil || !strings.Contains(stderr, "added") {
		t.Fatalf("first render: %v %s", err, stderr)
	}
	if _, stderr, err := runGen(t, "render", "--out", out); err != nil || !strings.Contains(stderr, "already match") {
		t.Fatalf("second render should change nothing: %v %s", err, stderr)
	}
	if _, _, err := runGen(t, "render", "--check", "--out", out); err != nil {
		t.Fatalf("check on a fresh tree: %v", err)
	}

	// A hand edit, a deleted file and a stale gen file are all reported.
	svc := filepath.Join(out, "manifests", "minio", "service.yaml")
	edited, _ := os.ReadFile(svc)
	os.WriteFile(svc, append(edited, "# edit\n"...), 0o644)
	os.Remove(filepath.Join(out, "manifests", "minio", "ingress.yaml"))
	stale := filepath.Join(out, "manifests", "old", "thing.yaml")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, edited, 0o644) // carries gen's header: gen's file
	userFile := filepath.Join(out, "manifests", "minio", "my-notes.yaml")
	os.WriteFile(userFile, []byte("# mine\n"), 0o644)

	stdout, _, err := runGen(t, "render", "--check", "--out", out)
	var exit *ExitError
	if err == nil || !asExit(err, &exit) || exit.Code != 1 {
		t.Fatalf("check on a stale tree: err = %v", err)
	}
	for _, want := range []string{"changed: manifests/minio/service.yaml", "missing: manifests/minio/ingress.yaml", "stale: manifests/old/thing.yaml"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "my-notes") {
		t.Error("check reports a file gen did not write")
	}

	if _, _, err := runGen(t, "render", "--out", out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("render kept a gen file the config no longer renders")
	}
	if b, err := os.ReadFile(userFile); err != nil || string(b) != "# mine\n" {
		t.Errorf("render touched the user's file: %q %v", b, err)
	}
	if _, _, err := runGen(t, "render", "--check", "--out", out); err != nil {
		t.Fatalf("check after re-render: %v", err)
	}
}

func TestRenderReadsGenYAMLFromOut(t *testing.T) {
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "gen.yaml"), []byte(header+"  sparkOperator:\n    jobNamespaces: [analytics]\n"), 0o644)
	if _, _, err := runGen(t, "render", "--out", out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "manifests", "spark-jobs", "analytics.yaml")); err != nil {
		t.Errorf("gen.yaml in --out was not used: %v", err)
	}
}

func TestExplicitMissingConfigIsAnError(t *testing.T) {
	_, _, err := runGen(t, "render", "-c", filepath.Join(t.TempDir(), "nope.yaml"), "--out", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigDefaultPrintsLoadableConfig(t *testing.T) {
	stdout, _, err := runGen(t, "config", "default")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gen.yaml")
	os.WriteFile(path, []byte(stdout), 0o644)
	if _, _, err := runGen(t, "config", "validate", "-c", path); err != nil {
		t.Fatalf("gen config default output does not validate: %v", err)
	}
}

func asExit(err error, target **ExitError) bool {
	e, ok := err.(*ExitError)
	if ok {
		*target = e
	}
	return ok
}
