package upstreamtest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// The crafted requests hack/upstream/fetch.sh makes must follow the official
// layout, so the mirror below only answers that layout:
// /argoproj/argo-cd/v<version>/{manifests/install.yaml,LICENSE} and
// /kubeflow/spark-operator/v<version>/{config/crd/bases/<file>,LICENSE} and
// /apache/spark-docker/master/<version>/scala2.13-java17-ubuntu/<file>.
func mirror(t *testing.T, dir string, tamper string) (url string, requests *atomic.Int64) {
	t.Helper()
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		var name string
		switch {
		case len(parts) == 5 && parts[0] == "argoproj" && parts[1] == "argo-cd" && parts[3] == "manifests" && parts[4] == "install.yaml":
			name = filepath.Join("argo-cd", parts[2], "install.yaml")
		case len(parts) == 4 && parts[3] == "LICENSE" && (parts[0]+"/"+parts[1] == "argoproj/argo-cd" || parts[0]+"/"+parts[1] == "kubeflow/spark-operator"):
			name = filepath.Join(parts[1], parts[2], "LICENSE")
		case len(parts) == 7 && parts[0] == "kubeflow" && parts[1] == "spark-operator" && strings.Join(parts[3:6], "/") == "config/crd/bases":
			name = filepath.Join("spark-operator", parts[2], parts[6])
		case len(parts) == 6 && parts[0] == "apache" && parts[1] == "spark-docker" && parts[2] == "master" && parts[4] == "scala2.13-java17-ubuntu":
			name = filepath.Join("spark-docker", parts[3], parts[5])
		default:
			http.NotFound(w, r)
			return
		}
		content, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if filepath.ToSlash(name) == tamper {
			content = append(content, "# tampered\n"...)
		}
		_, _ = w.Write(content)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

// fakeRepo copies the script, hack/lib.sh and the checksum list into a
// temporary repository root with no ../shared/upstream beside it (unless the
// test makes one), so the script takes the download path.
func fakeRepo(t *testing.T) (root string) {
	t.Helper()
	real, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(t.TempDir(), "repo")
	for _, f := range []string{"hack/lib.sh", "hack/upstream/fetch.sh", ChecksumsFile} {
		content, err := os.ReadFile(filepath.Join(real, f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, content, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// fetch runs the script of root with env on top of the test's environment
// (GEN_UPSTREAM_DIR removed: each case sets what it wants).
func fetch(t *testing.T, root string, env ...string) (string, error) {
	t.Helper()
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("hack/upstream/fetch.sh needs %s on PATH: install it (Debian: apt-get install %s; macOS has both)", tool, tool)
		}
	}
	cmd := exec.Command("bash", filepath.Join(root, "hack", "upstream", "fetch.sh"))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, EnvDir+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func sourceDir(t *testing.T) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFetchDownloadsAndVerifies(t *testing.T) {
	src := sourceDir(t)
	url, requests := mirror(t, src, "")
	root, cache := fakeRepo(t), t.TempDir()
	env := []string{"GEN_TEST_CACHE=" + cache, "GEN_UPSTREAM_BASE_URL=" + url}

	out, err := fetch(t, root, env...)
	if err != nil {
		t.Fatalf("fetch.sh: %v\n%s", err, out)
	}
	sums, err := readChecksums(filepath.Join(root, ChecksumsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sums {
		got, err := os.ReadFile(filepath.Join(cache, "upstream", c.path))
		if err != nil {
			t.Errorf("not fetched: %v", err)
			continue
		}
		want, err := os.ReadFile(filepath.Join(src, c.path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the fetched file differs from %s", c.path, filepath.Join(src, c.path))
		}
	}
	// The Spark Operator source comes from the Go module proxy, whole enough
	// to build the operator.
	for _, f := range []string{"cmd/operator/main.go", "api/v1beta2", "charts/spark-operator-chart/templates"} {
		if _, err := os.Stat(filepath.Join(cache, "upstream", "spark-operator", "v2.5.2", "src", f)); err != nil {
			t.Errorf("Spark Operator source incomplete: %v", err)
		}
	}
	// Dir, with neither $GEN_UPSTREAM_DIR nor ../shared/upstream, finds the cache.
	t.Setenv(EnvDir, "")
	t.Setenv(EnvCache, cache)
	got, err := dirFrom(root)
	if err != nil {
		t.Fatalf("Dir does not accept the fetched cache: %v", err)
	}
	if want := filepath.Join(cache, "upstream"); got != want {
		t.Errorf("Dir = %s, want the cache %s", got, want)
	}

	// A second run downloads nothing.
	before := requests.Load()
	out, err = fetch(t, root, env...)
	if err != nil {
		t.Fatalf("second fetch.sh: %v\n%s", err, out)
	}
	if n := requests.Load() - before; n != 0 {
		t.Errorf("second run made %d requests, want none:\n%s", n, out)
	}
	if !strings.Contains(out, "(0 downloaded)") {
		t.Errorf("second run does not say it downloaded nothing:\n%s", out)
	}
}

func TestFetchRefusesATamperedFile(t *testing.T) {
	const tampered = "spark-operator/v2.5.2/sparkoperator.k8s.io_sparkapplications.yaml"
	url, _ := mirror(t, sourceDir(t), tampered)
	root, cache := fakeRepo(t), t.TempDir()
	out, err := fetch(t, root, "GEN_TEST_CACHE="+cache, "GEN_UPSTREAM_BASE_URL="+url)
	if err == nil {
		t.Fatalf("fetch.sh accepted a tampered %s:\n%s", tampered, out)
	}
	if !strings.Contains(out, "CHECKSUM MISMATCH") || !strings.Contains(out, tampered) {
		t.Errorf("the failure does not name the tampered file %s:\n%s", tampered, out)
	}
	if _, err := os.Stat(filepath.Join(cache, "upstream", tampered)); err == nil {
		t.Errorf("the tampered file was kept in the cache")
	}
	// Dir refuses the cache too: the tampered file is not there, so it is missing.
	t.Setenv(EnvDir, "")
	t.Setenv(EnvCache, cache)
	if _, err := dirFrom(root); err == nil || !strings.Contains(err.Error(), "sparkoperator.k8s.io_sparkapplications.yaml") {
		t.Errorf("Dir accepted the cache without the tampered file, or did not name it: %v", err)
	}
}

func TestFetchOfflineSaysWhatToDo(t *testing.T) {
	// A loopback port nobody listens on: what an offline machine sees.
	ln := httptest.NewServer(http.NotFoundHandler())
	dead := ln.URL
	ln.Close()
	root := fakeRepo(t)
	out, err := fetch(t, root, "GEN_TEST_CACHE="+t.TempDir(), "GEN_UPSTREAM_BASE_URL="+dead)
	if err == nil {
		t.Fatalf("fetch.sh succeeded against a closed port:\n%s", out)
	}
	for _, want := range []string{"cannot download " + dead + "/argoproj/argo-cd/v", "GEN_UPSTREAM_DIR"} {
		if !strings.Contains(out, want) {
			t.Errorf("offline failure lacks %q:\n%s", want, out)
		}
	}
	if lines := strings.Count(strings.TrimSpace(out), "\n") + 1; lines > 2 {
		t.Errorf("offline failure takes %d lines, want one:\n%s", lines, out)
	}
}

// A local folder ($GEN_UPSTREAM_DIR, or ../shared/upstream beside the root)
// is verified, never downloaded into, and a tampered file in it is named.
func TestFetchVerifiesALocalFolder(t *testing.T) {
	src := sourceDir(t)
	root := fakeRepo(t)
	sums, err := readChecksums(filepath.Join(root, ChecksumsFile))
	if err != nil {
		t.Fatal(err)
	}
	copyTo := func(dst, tamper string) {
		for _, c := range sums {
			content, err := os.ReadFile(filepath.Join(src, c.path))
			if err != nil {
				t.Fatal(err)
			}
			if c.path == tamper {
				content = append(content, '\n')
			}
			f := filepath.Join(dst, c.path)
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	noNetwork := "GEN_UPSTREAM_BASE_URL=http://127.0.0.1:1"

	shared := filepath.Join(filepath.Dir(root), "shared", "upstream")
	copyTo(shared, "")
	cache := t.TempDir()
	out, err := fetch(t, root, "GEN_TEST_CACHE="+cache, noNetwork)
	if err != nil || !strings.Contains(out, "verified in "+shared) {
		t.Fatalf("../shared/upstream not verified and used: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("fetch.sh wrote into the cache although ../shared/upstream exists")
	}

	const tampered = "argo-cd/v3.5.1/install.yaml"
	bad := t.TempDir()
	copyTo(bad, tampered)
	out, err = fetch(t, root, "GEN_TEST_CACHE="+cache, noNetwork, EnvDir+"="+bad)
	if err == nil || !strings.Contains(out, "CHECKSUM MISMATCH: "+filepath.Join(bad, tampered)) {
		t.Errorf("a tampered file in $GEN_UPSTREAM_DIR was not named: %v\n%s", err, out)
	}
	t.Setenv(EnvDir, bad)
	if _, err := dirFrom(root); err == nil || !strings.Contains(err.Error(), filepath.Join(bad, tampered)) {
		t.Errorf("Dir accepted a tampered $GEN_UPSTREAM_DIR or did not name the file: %v", err)
	}
}

// The list in the repository covers every pinned release the tests use.
func TestChecksumsCoverThePins(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	sums, err := readChecksums(filepath.Join(root, ChecksumsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := coversPins(sums); err != nil {
		t.Error(err)
	}
	if err := coversPins(sums[1:]); err == nil {
		t.Errorf("coversPins accepts a list without %s", sums[0].path)
	}
}
