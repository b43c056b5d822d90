// Package cluster is the one way gen's commands reach a cluster: the
// kubeconfig (kubectl's loading rules), the context guard that keeps gen off
// any cluster but Rancher Desktop's unless another is named, the clients,
// and the test for "this kind is not served" (a CRD not installed yet). It
// is a leaf: bootstrap and every day-2 package use it, it uses none of them.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultContext is the kubeconfig context Rancher Desktop creates. gen only
// talks to another cluster when its context is named explicitly.
const DefaultContext = "rancher-desktop"

// Options say how to connect.
type Options struct {
	// Kubeconfig is --kubeconfig; empty follows $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// Context is --context; empty means DefaultContext.
	Context string
	// Explicit is true when --context was given: only then is a context
	// other than DefaultContext used.
	Explicit bool
	// Command names the gen command connecting, for the refusal message.
	Command string
	// Timeout bounds every single request, so an unreachable server is an
	// error within seconds, never a hang.
	Timeout time.Duration
}

// Config loads the kubeconfig for the context and returns the client
// config and the context's name. A production cluster is never touched
// because its context happens to be current.
func Config(o Options) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	raw, err := rules.Load()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	context := o.Context
	if context == "" {
		context = DefaultContext
	}
	if context != DefaultContext && !o.Explicit {
		return nil, "", fmt.Errorf("refusing context %q: gen %s only uses %q unless another context is named with --context", context, o.Command, DefaultContext)
	}
	if _, ok := raw.Contexts[context]; !ok {
		names := make([]string, 0, len(raw.Contexts))
		for n := range raw.Contexts {
			names = append(names, n)
		}
		sort.Strings(names)
		hint := "is Rancher Desktop running with Kubernetes enabled?"
		if len(names) > 0 {
			hint = "contexts there: " + strings.Join(names, ", ") + "; name one with --context"
		}
		return nil, "", fmt.Errorf("kubeconfig has no context %q (%s)", context, hint)
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, context, &clientcmd.ConfigOverrides{}, rules).ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig context %q: %w", context, err)
	}
	cfg.Timeout = o.Timeout
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, context, nil
}

// Clients are the typed and dynamic clients of one cluster.
type Clients struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
}

// NewClients makes the clients for restCfg.
func NewClients(restCfg *rest.Config) (*Clients, error) {
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	return &Clients{Kube: cs, Dynamic: dyn}, nil
}

// CRDs is the CustomResourceDefinition resource.
var CRDs = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// CRDEstablished reads the CRD's Established condition: true once the API
// server serves its kind. A missing CRD is the Get's NotFound error.
func CRDEstablished(ctx context.Context, dyn dynamic.Interface, name string) (bool, error) {
	crd, err := dyn.Resource(CRDs).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true, nil
		}
	}
	return false, nil
}

// IsNoKind reports whether err says a kind is not served (its CRD is not
// installed, or not yet established): the REST mapper's no-match error,
// however wrapped.
func IsNoKind(err error) bool { return meta.IsNoMatchError(err) }

// ErrTimeout is Poll's error when its timeout passes.
var ErrTimeout = errors.New("timed out")

// CutShort reports whether err only says that ctx ended, or is about to: ctx
// is done, or client-go's rate limiter refused to wait for a token because
// the wait would pass ctx's deadline. The limiter says so before the
// deadline and without wrapping context.DeadlineExceeded (golang.org/x/time
// rate.Limiter.Wait: "rate: Wait(n=1) would exceed context deadline", which
// client-go wraps as "client rate limiter Wait returned an error"), so the
// message is the only sign. A wait that ends this way has timed out; its
// last read did not fail.
func CutShort(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	_, hasDeadline := ctx.Deadline()
	return hasDeadline && err != nil && strings.Contains(err.Error(), "would exceed context deadline")
}

// Poll is the one wait loop of gen's commands: it calls done at once, then
// every interval, until done reports true or fails, the timeout passes
// (ErrTimeout, for the caller to say what it was waiting for), or ctx is
// cancelled (Ctrl-C: ctx.Err()).
func Poll(ctx context.Context, interval, timeout time.Duration, done func(context.Context) (bool, error)) error {
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(pctx context.Context) (bool, error) {
		ok, err := done(pctx)
		if err != nil && CutShort(pctx, err) {
			// The wait ended during a check (its request was cut short):
			// that is the timeout or the cancellation, not the check's failure.
			return false, nil
		}
		return ok, err
	})
	if err != nil && wait.Interrupted(err) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrTimeout
	}
	return err
}
