package bootstrap

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultContext is the kubeconfig context Rancher Desktop creates. gen only
// talks to another cluster when its context is named explicitly.
const DefaultContext = "rancher-desktop"

// Connect loads the kubeconfig (kubectl's rules: --kubeconfig, then
// $KUBECONFIG, then ~/.kube/config) for context. Any context other than
// rancher-desktop must be named with --context (explicit), so a production
// cluster is never touched because it happens to be current.
func Connect(kubeconfig, context string, explicit bool, timeout time.Duration) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	raw, err := rules.Load()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	if context == "" {
		context = DefaultContext
	}
	if context != DefaultContext && !explicit {
		return nil, "", fmt.Errorf("refusing context %q: gen bootstrap only uses %q unless another context is named with --context", context, DefaultContext)
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
	// Every single request is bounded, so an unreachable server is an error
	// within seconds, never a hang.
	cfg.Timeout = timeout
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, context, nil
}
