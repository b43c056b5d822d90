// Package upstreamtest serves the pinned upstream release files (Argo CD's
// install.yaml, the Spark Operator's CRDs) from a loopback HTTP server, so
// that tests and benchmarks can build the rendered tree, whose overlays
// reference those files by URL, without network access.
//
// The files live outside the repository, in ../shared/upstream beside the
// repository root (or $GEN_UPSTREAM_DIR), and are read in place: they are
// upstream's, under upstream's license, and must not be copied into the
// repository.
//
// Usage in a test:
//
//	cfg := upstreamtest.Config(t) // config.Default() pointed at a loopback server
//	ms, err := generator.Render(cfg)
package upstreamtest

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/sparkoperator"
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

// Dir locates the upstream folder: $GEN_UPSTREAM_DIR if set, else
// ../shared/upstream relative to the repository root, found by walking up
// from the working directory (a test's package folder under go test) to
// go.mod. It checks that the files Config needs are there, so a missing or
// wrong folder is reported once, plainly, instead of as a 404 deep inside a
// kustomize error.
func Dir() (string, error) {
	dir := os.Getenv(EnvDir)
	from := "$" + EnvDir
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", fmt.Errorf("upstreamtest: %w; set %s to the upstream folder", err, EnvDir)
		}
		dir = filepath.Join(root, "..", "shared", "upstream")
		from = "../shared/upstream beside the repository root " + root + "; set $" + EnvDir + " to use another folder"
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("upstreamtest: %w", err)
	}
	spark := "v" + strings.TrimPrefix(config.Default().Spec.SparkOperator.Version, "v")
	need := []string{filepath.Join("argo-cd", "v"+ArgoCDVersion, "install.yaml")}
	for _, f := range sparkoperator.CRDFiles {
		need = append(need, filepath.Join("spark-operator", spark, f))
	}
	for _, f := range need {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return "", fmt.Errorf("upstreamtest: upstream release file missing: %w (upstream folder from %s)", err, from)
		}
	}
	return dir, nil
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
