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
	"strings"
	"time"

	"github.com/rdspark/gen/bootstrap/kube"
)

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
