package upstreamtest_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/sparkoperator"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// The URLs the generator renders must come back as the upstream files,
// byte for byte: that is the whole contract with the config's base URLs.
func TestConfigURLsServeUpstreamFiles(t *testing.T) {
	cfg := upstreamtest.Config(t)
	cfg.Complete() // as Render does
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config pointed at the loopback server is invalid: %v", err)
	}
	dir, err := upstreamtest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		argocd.InstallURL(cfg): filepath.Join(dir, "argo-cd", "v"+upstreamtest.ArgoCDVersion, "install.yaml"),
	}
	for i, u := range sparkoperator.CRDURLs(cfg) {
		want[u] = filepath.Join(dir, "spark-operator", "v"+cfg.Spec.SparkOperator.Version, sparkoperator.CRDFiles[i])
	}
	for url, file := range want {
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Errorf("%s is not on loopback", url)
		}
		got := get(t, url, http.StatusOK)
		wantBody, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantBody) {
			t.Errorf("%s: body differs from %s", url, file)
		}
	}
}

func TestHandlerRefusesOtherPaths(t *testing.T) {
	dir, err := upstreamtest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(upstreamtest.Handler(dir))
	t.Cleanup(srv.Close)
	for _, p := range []string{
		"/",
		"/README.md",
		"/argo-cd/v3.5.1/install.yaml",           // the folder's layout, not upstream's
		"/argo-cd/v9.9.9/manifests/install.yaml", // a release the folder does not hold
		"/argo-cd/v3.5.1/manifests/LICENSE",
		"/spark-operator/v2.5.2/config/crd/bases/..%2f..%2fREADME.md",
		"/spark-operator/v2.5.2/config/crd/bases/",
		"/spark-operator/../config/crd/bases/README.md",
	} {
		body := get(t, srv.URL+p, http.StatusNotFound)
		if !bytes.Contains(body, []byte("upstreamtest:")) && !bytes.Contains(body, []byte("not found")) {
			t.Errorf("%s: 404 body does not say why: %q", p, body)
		}
	}
}

func get(t *testing.T, url string, status int) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Errorf("GET %s: status %d, want %d: %s", url, resp.StatusCode, status, body)
	}
	return body
}

// The default pins are what users get: each must be a release whose files
// exist in the upstream folder (and so could be verified), or bootstrap
// would meet a 404 at its Argo CD step on the laptop.
func TestDefaultPinsHaveUpstreamFiles(t *testing.T) {
	dir, err := upstreamtest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	spec := config.Default().Spec
	need := []string{filepath.Join(dir, "argo-cd", "v"+spec.ArgoCD.Version, "install.yaml")}
	for _, f := range sparkoperator.CRDFiles {
		need = append(need, filepath.Join(dir, "spark-operator", "v"+spec.SparkOperator.Version, f))
	}
	for _, f := range need {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("default pin without an upstream release file: %v", err)
		}
	}
}
