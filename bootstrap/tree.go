package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/kustomize"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/budget"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/manifest"
)

// Tree is the rendered tree in memory: bootstrap builds from the config
// itself, so what it applies is exactly what gen render writes for it.
type Tree struct {
	fs  filesys.FileSystem
	env string
	cfg config.Platform
	ms  []manifest.Manifest
}

const treeRoot = "/tree"

func NewTree(cfg config.Platform, env string) (*Tree, error) {
	ms, err := generator.Render(cfg)
	if err != nil {
		return nil, err
	}
	fs := filesys.MakeFsInMemory()
	for _, m := range ms {
		p := path.Join(treeRoot, m.Path)
		if err := fs.MkdirAll(path.Dir(p)); err != nil {
			return nil, err
		}
		if err := fs.WriteFile(p, m.Content); err != nil {
			return nil, err
		}
	}
	return &Tree{fs: fs, env: env, cfg: cfg, ms: ms}, nil
}

// Budget is what the environment's pods request (see generator.Budget).
func (t *Tree) Budget() (budget.Budget, error) {
	cfg := t.cfg
	cfg.Complete()
	env, ok := cfg.Environment(t.env)
	if !ok {
		return budget.Budget{}, fmt.Errorf("unknown environment %q", t.env)
	}
	return generator.Budget(cfg, t.ms, env)
}

// Build builds overlays/<env>/<folder>.
func (t *Tree) Build(folder string) ([]*unstructured.Unstructured, error) {
	return kustomize.BuildFS(t.fs, path.Join(treeRoot, generator.OverlaysDir, t.env, folder))
}

// Components builds every component overlay of the environment, in
// sync-wave order, keyed by component name.
func (t *Tree) Components() ([]string, map[string][]*unstructured.Unstructured, error) {
	components, err := generator.Components(t.cfg)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(components))
	built := map[string][]*unstructured.Unstructured{}
	for _, c := range components {
		objs, err := t.Build(c.Name)
		if err != nil {
			return nil, nil, err
		}
		names = append(names, c.Name)
		built[c.Name] = objs
	}
	return names, built, nil
}

// Install builds the Argo CD overlay and the namespaces overlay.
func (t *Tree) Install() (argoObjs, namespaceObjs []*unstructured.Unstructured, err error) {
	if argoObjs, err = t.Build(argocd.Name); err != nil {
		return nil, nil, fmt.Errorf("build Argo CD install: %w", err)
	}
	if namespaceObjs, err = t.Build("namespaces"); err != nil {
		return nil, nil, err
	}
	return argoObjs, namespaceObjs, nil
}

// UseInstall replaces the upstream install URL of manifests/argocd with
// content (from --argocd-manifests), for offline and mirrored installs.
func (t *Tree) UseInstall(installURL string, content []byte) error {
	dir := path.Join(treeRoot, generator.ManifestsDir, argocd.Name)
	kfile := path.Join(dir, "kustomization.yaml")
	raw, err := t.fs.ReadFile(kfile)
	if err != nil {
		return err
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(raw, &k); err != nil {
		return err
	}
	replaced := false
	for i, r := range k.Resources {
		if r == installURL {
			k.Resources[i] = "upstream-install.yaml"
			replaced = true
		}
	}
	if !replaced {
		return fmt.Errorf("manifests/argocd does not reference %s", installURL)
	}
	out, err := yaml.Marshal(&k)
	if err != nil {
		return err
	}
	if err := t.fs.WriteFile(kfile, out); err != nil {
		return err
	}
	return t.fs.WriteFile(path.Join(dir, "upstream-install.yaml"), content)
}

// installTimeout bounds the download of the Argo CD install (about 2 MB).
var installTimeout = 2 * time.Minute

// readInstall reads --argocd-manifests (a file or an http(s) URL) and checks
// it is an Argo CD install (it defines the Application CRD), so a wrong or
// truncated file is refused before anything is applied.
func readInstall(ctx context.Context, source string) ([]byte, error) {
	var content []byte
	if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") {
		var err error
		if content, err = get(ctx, source); err != nil {
			return nil, fmt.Errorf("--argocd-manifests: cannot download %s: %s", source, err)
		}
	} else {
		var err error
		if content, err = os.ReadFile(source); err != nil {
			return nil, fmt.Errorf("--argocd-manifests: %w", err)
		}
	}
	if err := isInstall(content); err != nil {
		return nil, fmt.Errorf("--argocd-manifests %s %w", source, err)
	}
	return content, nil
}

// downloadInstall gets the config's upstream Argo CD install. Offline or
// behind a firewall, its error is one line: the cause, the URL, and the two
// ways out.
func downloadInstall(ctx context.Context, url string) ([]byte, error) {
	content, err := get(ctx, url)
	if err == nil {
		if err := isInstall(content); err != nil {
			return nil, fmt.Errorf("the Argo CD install at %s %w; point spec.argocd.manifestsBaseURL in gen.yaml at a mirror that serves the release, or pass --argocd-manifests FILE", url, err)
		}
		return content, nil
	}
	return nil, fmt.Errorf("cannot download the Argo CD install (%s) from %s; offline or behind a firewall: pass --argocd-manifests FILE (a copy of that file), "+
		"or set spec.argocd.manifestsBaseURL in gen.yaml to a mirror that keeps the <base>/v<version>/manifests/install.yaml layout", err, url)
}

// get downloads url; its error is the short cause alone ("connection
// refused", "no such host", "404 Not Found"), for one-line messages.
func get(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, shortCause(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	content, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, shortCause(err)
	}
	return content, nil
}

// shortCause strips the layers (Get "url": dial tcp 1.2.3.4:443: connect:)
// off a network error, keeping what went wrong.
func shortCause(err error) error {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("cannot resolve %s: %s", dnsErr.Name, dnsErr.Err)
	}
	if errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err) {
		return errors.New("timed out")
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		inner := opErr.Err
		var sysErr *os.SyscallError
		if errors.As(inner, &sysErr) {
			inner = sysErr.Err
		}
		return inner
	}
	var urlErr *neturl.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// isInstall: an Argo CD install defines the applications.argoproj.io CRD.
func isInstall(content []byte) error {
	objs, err := kube.DecodeYAML(content)
	if err != nil {
		return fmt.Errorf("is not valid YAML: %w", err)
	}
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" && u.GetName() == "applications.argoproj.io" {
			return nil
		}
	}
	return errors.New("is not an Argo CD install: it does not define the applications.argoproj.io CRD")
}
