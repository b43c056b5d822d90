package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/progress"
)

// workloads are the objects of objs whose readiness bootstrap waits for.
func workloads(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment", "StatefulSet", "DaemonSet":
			out = append(out, o)
		}
	}
	return out
}

// pollInterval is how often the wait reads the workloads.
var pollInterval = 2 * time.Second

// waitReady polls the workloads with kstatus until all are Current, printing
// each as it becomes ready. On timeout it names every workload that is not
// ready with kstatus's message (e.g. "Available: 0/1").
func waitReady(ctx context.Context, a *kube.Applier, objs []*unstructured.Unstructured, timeout time.Duration, p *progress.Printer) error {
	start := time.Now()
	pending := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		pending[kube.Ref(o)] = o
	}
	last := map[string]kube.Status{}
	lastReport := start
	err := cluster.Poll(ctx, pollInterval, timeout, func(ctx context.Context) (bool, error) {
		for ref, o := range pending {
			live, err := a.Get(ctx, o)
			var s kube.Status
			switch {
			case err != nil:
				s = kube.Status{Ref: ref, Message: err.Error()}
			case live == nil:
				s = kube.Status{Ref: ref, Message: "not found"}
			default:
				s = kube.StatusOf(live)
			}
			if s.Ready() {
				p.Infof("%s ready (%s)", ref, time.Since(start).Round(time.Second))
				delete(pending, ref)
				continue
			}
			last[ref] = s
		}
		if len(pending) > 0 && time.Since(lastReport) > 15*time.Second {
			p.Infof("waiting for %d workloads (%s)", len(pending), time.Since(start).Round(time.Second))
			lastReport = time.Now()
		}
		return len(pending) == 0, nil
	})
	if errors.Is(err, cluster.ErrTimeout) {
		return notReadyError(pending, last, timeout)
	}
	return err
}

func notReadyError(pending map[string]*unstructured.Unstructured, last map[string]kube.Status, timeout time.Duration) error {
	refs := make([]string, 0, len(pending))
	for ref := range pending {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	lines := make([]string, 0, len(refs))
	for _, ref := range refs {
		s := last[ref]
		msg := s.Message
		if msg == "" {
			msg = "no status yet"
		}
		lines = append(lines, fmt.Sprintf("%s: %s (%s)", ref, s.Status, msg))
	}
	return fmt.Errorf("%d workloads not ready after %s:\n  %s\n(kubectl -n <namespace> describe <kind> <name> shows why; re-run gen bootstrap to continue)", len(refs), timeout, strings.Join(lines, "\n  "))
}
