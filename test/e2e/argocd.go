//go:build linux

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcache"
	"github.com/rdspark/gen/internal/testproc"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// ArgoCDVersion is the Argo CD release the end-to-end tests run: the
// config's default pin (what users get), like "v3.6.1". hack/argocd/build.sh
// builds the same pin (go run ./hack/argocd/pin), so when the pin moves, the
// next build follows it, and until then the test fails naming the version it
// lacks. It names the cache directory, and InstallArgoCD applies its
// install.yaml.
var ArgoCDVersion = "v" + strings.TrimPrefix(config.Default().Spec.ArgoCD.Version, "v")

// ArgoCDNamespace is where Argo CD's config objects and Applications live.
const ArgoCDNamespace = "argocd"

// DefaultReconciliationTimeout is how often the controller re-reads Git
// without being asked (ARGOCD_RECONCILIATION_TIMEOUT; Argo CD's default is
// 120 s plus jitter). Tests that need a change fast request a hard refresh
// (RefreshApp) instead of waiting for it.
const DefaultReconciliationTimeout = 10 * time.Second

// ArgoCDBinDir is where the argocd multi-call binary, its role symlinks and
// kustomize are taken from: $GEN_TEST_ARGOCD_BIN, or the cache directory
// hack/argocd/build.sh writes to.
func ArgoCDBinDir() string {
	if dir := os.Getenv("GEN_TEST_ARGOCD_BIN"); dir != "" {
		return dir
	}
	return testcache.Dir("argocd-"+ArgoCDVersion, "bin")
}

// requireArgoCDBinaries fails the test with instructions when a binary is
// missing.
func requireArgoCDBinaries(t testing.TB, dir string) {
	t.Helper()
	// git-verify-wrapper.sh: Argo CD 3.6's repo-server runs it for every
	// revision (its image has it on PATH); without it every manifest
	// generation fails with "permission denied".
	for _, name := range []string{"argocd", "argocd-application-controller", "argocd-repo-server", "kustomize", "git-verify-wrapper.sh"} {
		p := filepath.Join(dir, name)
		info, err := os.Stat(p)
		if err == nil && (!info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0) {
			err = fmt.Errorf("%s is not an executable file", p)
		}
		if err != nil {
			t.Fatalf("e2e: %v\n\nThe end-to-end tests need Argo CD %s (the default pin of config.Default()), the kustomize it pins and its git-verify-wrapper.sh, "+
				"in %s. Build them once (tens of minutes cold with Go 1.27, fetched as GOTOOLCHAIN=go1.27.3; cached afterwards) from the repository root with:\n\n"+
				"    hack/argocd/build.sh\n\nor set GEN_TEST_ARGOCD_BIN to a directory that holds them. Unit tests alone: go test -short ./...",
				err, ArgoCDVersion, dir)
		}
	}
}

// ArgoCD is a running Argo CD: argocd-repo-server and
// argocd-application-controller as local processes.
type ArgoCD struct {
	RepoServer *Process
	Controller *Process
	// RepoServerAddr is the repo-server's gRPC address (host:port).
	RepoServerAddr string
	// Dir holds the processes' data directories and logs.
	Dir string
}

// ArgoCDOptions configures StartArgoCD.
type ArgoCDOptions struct {
	// Kubeconfig is the cluster both processes talk to; with
	// ARGOCD_FAKE_IN_CLUSTER=true, https://kubernetes.default.svc in an
	// Application's destination means this cluster.
	Kubeconfig string
	// Redis is redis' address (host:port), see StartRedis.
	Redis string
	// ReconciliationTimeout overrides DefaultReconciliationTimeout.
	ReconciliationTimeout time.Duration
	// LogLevel is the components' --loglevel; "info" when empty.
	LogLevel string
}

// StartArgoCD starts argocd-repo-server and argocd-application-controller on
// free loopback ports and waits until both answer /healthz. The CRDs and
// config objects must be installed first (InstallArgoCD or gen bootstrap).
// Both processes are stopped when the test ends.
func StartArgoCD(t testing.TB, o ArgoCDOptions) *ArgoCD {
	t.Helper()
	if !InPrivateNamespace() {
		// The controller's metrics listener binds 0.0.0.0.
		t.Fatal("e2e: StartArgoCD must run inside the private network namespace: call e2e.Main from TestMain")
	}
	bin := ArgoCDBinDir()
	requireArgoCDBinaries(t, bin)
	if o.ReconciliationTimeout == 0 {
		o.ReconciliationTimeout = DefaultReconciliationTimeout
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	dir := t.TempDir()
	for _, d := range []string{"home", "tmp", "tls", "ssh", "gpg/source", "gpg/keys", "plugins"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// What the in-cluster Deployments get from their images and volumes,
	// pointed into the test's directory.
	env := append(baseEnv(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), // argocd (git ask-pass), kustomize, then git
		"HOME="+filepath.Join(dir, "home"),
		"TMPDIR="+filepath.Join(dir, "tmp"), // repo-server clones here
		"KUBECONFIG="+o.Kubeconfig,
		"ARGOCD_FAKE_IN_CLUSTER=true",
		"ARGOCD_GPG_ENABLED=false",
		"ARGOCD_TLS_DATA_PATH="+filepath.Join(dir, "tls"),
		"ARGOCD_SSH_DATA_PATH="+filepath.Join(dir, "ssh"),
		"ARGOCD_GPG_DATA_PATH="+filepath.Join(dir, "gpg/source"),
		"ARGOCD_GNUPGHOME="+filepath.Join(dir, "gpg/keys"),
		"ARGOCD_PLUGINSOCKFILEPATH="+filepath.Join(dir, "plugins"),
		"ARGOCD_RECONCILIATION_TIMEOUT="+o.ReconciliationTimeout.String(),
		"ARGOCD_RECONCILIATION_JITTER=0s",
		"ARGOCD_LOG_FORMAT=text",
	)
	ports := FreePorts(t, 5)
	repoPort, repoMetrics, ctrlMetrics, commitPort := ports[0], ports[1], ports[2], ports[3]
	a := &ArgoCD{Dir: dir, RepoServerAddr: hostPort(repoPort)}

	a.RepoServer = StartProcess(t, dir, "argocd-repo-server", filepath.Join(bin, "argocd-repo-server"), []string{
		"--address", "127.0.0.1",
		"--port", strconv.Itoa(repoPort),
		"--metrics-address", "127.0.0.1",
		"--metrics-port", strconv.Itoa(repoMetrics),
		"--redis", o.Redis,
		"--loglevel", o.LogLevel,
		"--logformat", "text",
	}, env)
	a.Controller = StartProcess(t, dir, "argocd-application-controller", filepath.Join(bin, "argocd-application-controller"), []string{
		"--namespace", ArgoCDNamespace,
		"--redis", o.Redis,
		"--repo-server", a.RepoServerAddr,
		// Hard-coded to 0.0.0.0: harmless only because the network
		// namespace has no other interface than loopback.
		"--metrics-port", strconv.Itoa(ctrlMetrics),
		// Nothing listens here: the hydrator, its only user, is off.
		"--commit-server", hostPort(commitPort),
		"--hydrator-enabled=false",
		"--server-side-diff-enabled=false",
		"--loglevel", o.LogLevel,
		"--logformat", "text",
	}, env)

	deadline := time.Now().Add(90 * time.Second)
	for _, w := range []struct {
		p   *Process
		url string
	}{
		{a.RepoServer, "http://" + hostPort(repoMetrics) + "/healthz"},
		{a.Controller, "http://" + hostPort(ctrlMetrics) + "/healthz"},
	} {
		if err := waitHTTP(w.p, w.url, deadline); err != nil {
			t.Fatalf("e2e: %s not healthy: %v\n%s", w.p.Name, err, w.p.Tail(logTailLines))
		}
	}
	return a
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// waitHTTP polls url until it answers 200, p exits or the deadline passes.
func waitHTTP(p *Process, url string, deadline time.Time) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for time.Now().Before(deadline) {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("exited (%s)", testproc.DescribeExit(err))
		}
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("no healthy answer from %s: %v", url, lastErr)
}

// installKinds are the kinds of Argo CD's install.yaml that InstallArgoCD
// applies: its API (CRDs) and what the components read (config, RBAC). The
// Deployments, StatefulSet, Services and NetworkPolicies are left out,
// because the components run as local processes instead.
var installKinds = map[string]bool{
	"CustomResourceDefinition": true,
	"ConfigMap":                true,
	"Secret":                   true,
	"ServiceAccount":           true,
	"Role":                     true,
	"RoleBinding":              true,
	"ClusterRole":              true,
	"ClusterRoleBinding":       true,
}

// InstallManifests reads Argo CD's install.yaml (ArgoCDVersion) from url and
// returns the objects InstallArgoCD applies: the argocd Namespace, the CRDs,
// ConfigMaps, Secrets, ServiceAccounts and RBAC, with namespaced objects put
// into ArgoCDNamespace (install.yaml leaves that to `kubectl -n`).
func InstallManifests(t testing.TB, url string) []*unstructured.Unstructured {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("e2e: fetch Argo CD install manifests: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("e2e: fetch %s: %s %v %s", url, resp.Status, err, data)
	}
	all, err := DecodeYAML(data)
	if err != nil {
		t.Fatalf("e2e: decode %s: %v", url, err)
	}
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": ArgoCDNamespace},
	}}
	objs := []*unstructured.Unstructured{ns}
	for _, o := range all {
		if !installKinds[o.GetKind()] {
			continue
		}
		switch o.GetKind() {
		case "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding":
		default:
			if o.GetNamespace() == "" {
				o.SetNamespace(ArgoCDNamespace)
			}
		}
		objs = append(objs, o)
	}
	return objs
}

// DefaultAppProject is the `default` AppProject that argocd-server creates
// on its first start (it does not run here): any source repository, any
// destination, every kind.
func DefaultAppProject() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "AppProject",
		"metadata":   map[string]any{"name": "default", "namespace": ArgoCDNamespace},
		"spec": map[string]any{
			"sourceRepos":              []any{"*"},
			"destinations":             []any{map[string]any{"server": "*", "namespace": "*"}},
			"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
		},
	}}
}

// InstallArgoCD server-side applies InstallManifests(installURL) and the
// DefaultAppProject with bootstrap/kube's Applier, the way gen bootstrap
// installs, and waits for the CRDs to be established.
func InstallArgoCD(t testing.TB, cfg *rest.Config, installURL string) {
	t.Helper()
	objs := append(InstallManifests(t, installURL), DefaultAppProject())
	a, err := kube.NewApplier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := a.ApplyStaged(ctx, objs, kube.Options{Force: true}, 1); err != nil {
		t.Fatalf("e2e: install Argo CD: %v", err)
	}
}

// DecodeYAML splits a multi-document YAML (or JSON) stream into objects,
// skipping empty documents.
func DecodeYAML(data []byte) ([]*unstructured.Unstructured, error) { return kube.DecodeYAML(data) }

// ArgoCDInstallPath is the URL path of the install.yaml of version (like
// "3.5.1" or "v3.6.1") under an upstreamtest server.
func ArgoCDInstallPath(version string) string {
	return upstreamtest.ArgoCDPrefix + "/v" + strings.TrimPrefix(version, "v") + "/manifests/install.yaml"
}
