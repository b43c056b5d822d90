package sync

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/generator/component"
)

// crdCause is how Argo CD names a CRD among the causes of an Application's
// health (controller/health.go formatHealthCauses: "Caused by
// <group>/<Kind>:<name>, ..."; a CRD has no namespace).
const crdCause = "apiextensions.k8s.io/CustomResourceDefinition:"

// CRDHealthNudger asks Argo CD to look again at an Application whose health
// is stuck on a CRD that is in fact Established.
//
// Why: Argo CD 3 judges a CRD Progressing until the API server marks it
// Established (its built-in CRD health check), which happens a moment after
// the CRD is created. But it puts no tracking annotation on CRDs, so the
// status update that marks one Established requeues no Application: the
// Application stays Progressing until its next periodic reconciliation, up
// to the reconciliation timeout plus its jitter later (measured here: about
// two minutes after gen teardown and gen bootstrap, with a 60 s timeout;
// argoproj/argo-cd#25084 and #26346 report the CRD check's timing too). A
// normal refresh (annotation argocd.argoproj.io/refresh=normal) makes Argo CD
// re-read the live state at once; it changes nothing in the cluster.
type CRDHealthNudger struct {
	Dynamic dynamic.Interface
	// Out gets one line per refresh asked for; nil discards them.
	Out io.Writer
	// Every is the least time between two refreshes of one Application (10
	// s when zero), so a CRD that Argo CD still judges Progressing after a
	// refresh is not hammered.
	Every time.Duration
	// now is time.Now, or a test's clock.
	now  func() time.Time
	last map[string]time.Time
}

// Nudge looks at each Application of apps and asks for a refresh of those
// that are Synced, Progressing, have no sync running, and name as a cause
// of their health a CRD that the API server reports Established. It returns
// the names of the Applications it refreshed.
func (n *CRDHealthNudger) Nudge(ctx context.Context, apps []unstructured.Unstructured) ([]string, error) {
	if n.last == nil {
		n.last = map[string]time.Time{}
	}
	now := time.Now
	if n.now != nil {
		now = n.now
	}
	every := n.Every
	if every == 0 {
		every = 10 * time.Second
	}
	var refreshed []string
	for i := range apps {
		app := &apps[i]
		crd, ok := staleCRDCause(app)
		if !ok || now().Sub(n.last[app.GetName()]) < every {
			continue
		}
		established, err := cluster.CRDEstablished(ctx, n.Dynamic, crd)
		if apierrors.IsNotFound(err) || (err == nil && !established) {
			continue
		}
		if err != nil {
			return refreshed, fmt.Errorf("read CRD %s: %w", crd, err)
		}
		patch := []byte(`{"metadata":{"annotations":{"` + RefreshAnnotation + `":"normal"}}}`)
		_, err = n.Dynamic.Resource(applications).Namespace(component.ArgoCDNamespace).Patch(ctx, app.GetName(), types.MergePatchType, patch, metav1.PatchOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return refreshed, fmt.Errorf("refresh Application %s: %w", app.GetName(), err)
		}
		n.last[app.GetName()] = now()
		refreshed = append(refreshed, app.GetName())
		if n.Out != nil {
			fmt.Fprintf(n.Out, "  asked Argo CD to look at %s again: its health waits on CRD %s, which is Established (Argo CD does not watch CRDs for their Applications)\n", app.GetName(), crd)
		}
	}
	return refreshed, nil
}

// staleCRDCause returns the first CRD that Argo CD names as a cause of the
// Application's Progressing health, when the Application is otherwise done
// (Synced, no sync running, no refresh already asked for).
func staleCRDCause(app *unstructured.Unstructured) (string, bool) {
	str := func(fields ...string) string {
		s, _, _ := unstructured.NestedString(app.Object, fields...)
		return s
	}
	if str("status", "sync", "status") != "Synced" || str("status", "health", "status") != "Progressing" ||
		str("status", "operationState", "phase") == "Running" || app.GetAnnotations()[RefreshAnnotation] != "" {
		return "", false
	}
	causes, ok := strings.CutPrefix(str("status", "health", "message"), "Caused by ")
	if !ok {
		return "", false
	}
	for _, c := range strings.Split(causes, ", ") {
		if name, ok := strings.CutPrefix(c, crdCause); ok {
			name, _, _ = strings.Cut(name, " and ") // "... and 3 more"
			return name, true
		}
	}
	return "", false
}
