// Package upstreamtest serves the pinned upstream release files (Argo CD's
// install.yaml, the Spark Operator's CRDs) from a loopback HTTP server, so
// that tests and benchmarks can build the rendered tree, whose overlays
// reference those files by URL, without network access.
//
// The files live outside the repository and are read in place: they are
// upstream's, under upstream's license, and must not be copied into the
// repository. They are found in $GEN_UPSTREAM_DIR, in ../shared/upstream
// beside the repository root (this project's machines and CI, which have no
// network), or in the test cache that hack/upstream/fetch.sh fills from the
// pinned URLs; hack/upstream/SHA256SUMS records their SHA-256 (see Dir).
//
// Usage in a test:
//
//	cfg := upstreamtest.Config(t) // config.Default() pointed at a loopback server
//	ms, err := generator.Render(cfg)
package upstreamtest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/sparkoperator"
	"github.com/rdspark/gen/internal/testcache"
)

// EnvDir names the environment variable that overrides where the upstream
// files are.
const EnvDir = "GEN_UPSTREAM_DIR"

// ArgoCDVersion is the Argo CD release Config selects: the config's default
// pin, so that every test applies what users get. Dir fails when the upstream
// folder has no install.yaml of it: a default pin must be a release that can
// be verified.
var ArgoCDVersion = config.Default().Spec.ArgoCD.Version

// OlderArgoCDVersion is an older release in the upstream folder, the starting
// point of tests that upgrade Argo CD through Git.
const OlderArgoCDVersion = "3.5.1"

// URL prefixes the server answers under; the base URLs handed to the config
// are the server's address plus these.
const (
	ArgoCDPrefix        = "/argo-cd"
	SparkOperatorPrefix = "/spark-operator"
)

// Handler serves dir, laid out as the shared upstream folder, under the URL
// layout the config's base URLs expect:
//
//	/argo-cd/v<version>/manifests/install.yaml         -> dir/argo-cd/v<version>/install.yaml
//	/spark-operator/v<version>/config/crd/bases/<file> -> dir/spark-operator/v<version>/<file>
//
// Anything else is a 404 whose body says why, because the one reading it is
// usually kustomize's error message in a failed test.
func Handler(dir string) http.Handler {
	fsys := os.DirFS(dir)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "upstreamtest: only GET and HEAD are served", http.StatusMethodNotAllowed)
			return
		}
		name, ok := mapPath(r.URL.Path)
		if !ok {
			http.Error(w, fmt.Sprintf("upstreamtest: %s is not an upstream file URL this server knows (%s/v<version>/manifests/install.yaml or %s/v<version>/config/crd/bases/<file>)",
				r.URL.Path, ArgoCDPrefix, SparkOperatorPrefix), http.StatusNotFound)
			return
		}
		if info, err := fs.Stat(fsys, name); err != nil || !info.Mode().IsRegular() {
			http.Error(w, fmt.Sprintf("upstreamtest: %s maps to %s, which is not in %s", r.URL.Path, name, dir), http.StatusNotFound)
			return
		}
		http.ServeFileFS(w, r, fsys, name)
	})
}

// mapPath turns a request path into a file name inside the upstream folder.
func mapPath(p string) (string, bool) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	var name string
	switch {
	case len(parts) == 4 && "/"+parts[0] == ArgoCDPrefix && parts[2] == "manifests" && parts[3] == "install.yaml":
		name = path.Join(parts[0], parts[1], "install.yaml")
	case len(parts) == 6 && "/"+parts[0] == SparkOperatorPrefix && parts[2] == "config" && parts[3] == "crd" && parts[4] == "bases":
		name = path.Join(parts[0], parts[1], parts[5])
	default:
		return "", false
	}
	// The version and file segments come from the client: refuse anything
	// that is not a plain name (empty, ".", ".."), so no request leaves dir.
	version, file := parts[1], parts[len(parts)-1]
	if !strings.HasPrefix(version, "v") || !plain(version) || !plain(file) {
		return "", false
	}
	return name, true
}

func plain(segment string) bool {
	return segment != "" && segment != "." && segment != ".." && fs.ValidPath(segment)
}

// BaseURLs are the config's base URLs for a server of Handler at serverURL
// (like http://127.0.0.1:43210).
func BaseURLs(serverURL string) (argoBaseURL, sparkCRDBaseURL string) {
	serverURL = strings.TrimSuffix(serverURL, "/")
	return serverURL + ArgoCDPrefix, serverURL + SparkOperatorPrefix
}

// ConfigFor is config.Default() with its upstream base URLs set to the given ones.
func ConfigFor(argoBaseURL, sparkCRDBaseURL string) config.Platform {
	cfg := config.Default()
	cfg.Spec.ArgoCD.ManifestsBaseURL = argoBaseURL
	cfg.Spec.SparkOperator.CRDBaseURL = sparkCRDBaseURL
	return cfg
}

// EnvCache names the environment variable of the test cache root, the same
// as the control-plane build's.
const EnvCache = testcache.Env

// ChecksumsFile is the repository's list of the upstream files the tests
// need, with their SHA-256, relative to the repository root. hack/upstream/fetch.sh
// fetches and verifies the files it names; Dir verifies them again.
const ChecksumsFile = "hack/upstream/SHA256SUMS"

// CacheDir is where hack/upstream/fetch.sh downloads the upstream files:
// ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}/upstream.
func CacheDir() string {
	return testcache.Dir("upstream")
}

// Dir locates the upstream folder, in the order hack/upstream/fetch.sh uses:
// $GEN_UPSTREAM_DIR if set; else ../shared/upstream beside the repository
// root (found by walking up from the working directory, a test's package
// folder under go test, to go.mod) when it exists; else the test cache
// (CacheDir) that fetch.sh fills. Every file of hack/upstream/SHA256SUMS must
// be there with its recorded SHA-256, so a missing, wrong or tampered file is
// reported once, naming it, instead of as a 404 or a strange diff deep inside
// a kustomize error.
func Dir() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", fmt.Errorf("upstreamtest: %w; run the tests inside the repository", err)
	}
	return dirFrom(root)
}

const fetchHint = "run hack/upstream/fetch.sh (make test runs it) to download and verify them, or set $" + EnvDir + " to a folder that holds them"

func dirFrom(root string) (string, error) {
	dir, from := os.Getenv(EnvDir), "$"+EnvDir
	if dir == "" {
		shared := filepath.Join(root, "..", "shared", "upstream")
		if info, err := os.Stat(shared); err == nil && info.IsDir() {
			dir, from = shared, "../shared/upstream beside the repository root "+root
		} else {
			dir, from = CacheDir(), "the test cache (no $"+EnvDir+", no ../shared/upstream beside "+root+")"
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("upstreamtest: %w", err)
	}
	sums, err := readChecksums(filepath.Join(root, filepath.FromSlash(ChecksumsFile)))
	if err != nil {
		return "", err
	}
	if err := coversPins(sums); err != nil {
		return "", err
	}
	verified.Lock()
	defer verified.Unlock()
	if err, done := verified.m[dir]; done {
		return dir, err
	}
	err = verify(dir, from, sums)
	verified.m[dir] = err
	return dir, err
}

// verified remembers each folder's verification: tests call Dir often, and
// hashing the files once per test binary is enough.
var verified = struct {
	sync.Mutex
	m map[string]error
}{m: map[string]error{}}

func verify(dir, from string, sums []checksum) error {
	for _, c := range sums {
		file := filepath.Join(dir, filepath.FromSlash(c.path))
		content, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("upstreamtest: upstream release file missing: %s (upstream folder from %s); %s", file, from, fetchHint)
		}
		if err != nil {
			return fmt.Errorf("upstreamtest: %w", err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(content)); got != c.sum {
			return fmt.Errorf("upstreamtest: checksum mismatch: %s has sha256 %s, %s records %s (upstream folder from %s); replace the file with the pinned release's, or %s",
				file, got, ChecksumsFile, c.sum, from, fetchHint)
		}
	}
	return nil
}

// Pinned are the upstream files the tests use: the default pins' (what users
// get) and the older Argo CD release of the upgrade tests.
func Pinned() []string {
	spark := "v" + strings.TrimPrefix(config.Default().Spec.SparkOperator.Version, "v")
	need := []string{
		path.Join("argo-cd", "v"+ArgoCDVersion, "install.yaml"),
		path.Join("argo-cd", "v"+OlderArgoCDVersion, "install.yaml"),
	}
	for _, f := range sparkoperator.CRDFiles {
		need = append(need, path.Join("spark-operator", spark, f))
	}
	return need
}

// coversPins: a default pin must be a release whose files are recorded (and
// so verified), or a pin bump would quietly test nothing.
func coversPins(sums []checksum) error {
	listed := map[string]bool{}
	for _, c := range sums {
		listed[c.path] = true
	}
	for _, p := range Pinned() {
		if !listed[p] {
			return fmt.Errorf("upstreamtest: %s does not list %s, a file of a pinned release: add its path, then run hack/upstream/fetch.sh --regen with the file at hand", ChecksumsFile, p)
		}
	}
	return nil
}

type checksum struct{ sum, path string }

// readChecksums parses the sha256sum-format list ("<hex>  <path>" lines).
func readChecksums(file string) ([]checksum, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("upstreamtest: %w", err)
	}
	var sums []checksum
	for i, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, path, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || !fs.ValidPath(path) {
			return nil, fmt.Errorf("upstreamtest: %s:%d: not \"<sha256>  <path>\": %q", file, i+1, line)
		}
		sums = append(sums, checksum{sum: sum, path: path})
	}
	if len(sums) == 0 {
		return nil, fmt.Errorf("upstreamtest: %s lists no files", file)
	}
	return sums, nil
}

// repoRoot walks up from the working directory to the folder holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// Serve starts a loopback server of Handler(Dir()) for the test's lifetime and
// returns the config's base URLs for it. It fails the test if the upstream
// folder is missing.
func Serve(t testing.TB) (argoBaseURL, sparkCRDBaseURL string) {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	// httptest.NewServer listens on 127.0.0.1 with a free port.
	srv := httptest.NewServer(Handler(dir))
	t.Cleanup(srv.Close)
	return BaseURLs(srv.URL)
}

// Config is config.Default() pointed at a loopback server of the upstream
// files (see Serve).
func Config(t testing.TB) config.Platform {
	t.Helper()
	return ConfigFor(Serve(t))
}
