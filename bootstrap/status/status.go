// Package status answers "is my platform up?": each Argo CD Application's
// sync status, health and revision, each platform workload's readiness
// (kstatus), the platform pods the scheduler cannot place, and the URLs, as
// one report for a screen or for scripts.
package status

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/sync"
	"github.com/rdspark/gen/bootstrap/tree"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
)

// Application is one Argo CD Application as Argo CD reports it.
type Application struct {
	Name     string `json:"name"`
	Sync     string `json:"sync"`
	Health   string `json:"health"`
	Revision string `json:"revision,omitempty"`
	Message  string `json:"message,omitempty"`
}

// Healthy is Synced and Healthy.
func (a Application) Healthy() bool { return a.Sync == "Synced" && a.Health == "Healthy" }

// Workload is one platform workload's kstatus.
type Workload struct {
	Ref     string `json:"ref"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// Ready is kstatus Current.
func (w Workload) Ready() bool { return w.Status == "Current" }

// PendingPod is a platform pod that the scheduler could not place: its
// PodScheduled condition is False, with the scheduler's reason and message
// ("0/1 nodes are available: 1 Insufficient memory.").
type PendingPod struct {
	Ref     string `json:"ref"` // namespace/name
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// NoRoom is true when the node lacks the CPU or memory the pod requests:
// the VM is too small, or the requests too big.
func (p PendingPod) NoRoom() bool { return strings.Contains(p.Message, "Insufficient") }

// URL is one UI of the platform.
type URL struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Report is the whole status.
type Report struct {
	Environment  string        `json:"environment"`
	Healthy      bool          `json:"healthy"`
	Applications []Application `json:"applications"`
	Workloads    []Workload    `json:"workloads"`
	// Pending are the platform's pods the scheduler could not place; an
	// Application whose pod is here stays Progressing.
	Pending []PendingPod `json:"pending,omitempty"`
	URLs    []URL        `json:"urls"`
}

var applications = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// Collect reads the status of env's platform from the cluster.
func Collect(ctx context.Context, restCfg *rest.Config, cfg config.Platform, env string) (Report, error) {
	cfg.Complete()
	e, ok := cfg.Environment(env)
	if !ok {
		return Report{}, fmt.Errorf("unknown environment %q", env)
	}
	rendered, err := tree.New(cfg, env)
	if err != nil {
		return Report{}, err
	}
	names, built, err := rendered.Components()
	if err != nil {
		return Report{}, err
	}
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return Report{}, err
	}
	applier, err := kube.NewApplier(restCfg)
	if err != nil {
		return Report{}, err
	}

	applier.NewKindGrace = 0
	r := Report{Environment: env, Healthy: true}
	for _, name := range append([]string{argocd.RootName}, names...) {
		app := Application{Name: name, Sync: "Missing", Health: "Missing"}
		live, err := dyn.Resource(applications).Namespace(component.ArgoCDNamespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			app = fromLive(live)
		case apierrors.IsNotFound(err) || cluster.IsNoKind(err):
			app.Message = "not found: has gen bootstrap run, and has the root Application synced?"
		default:
			return Report{}, fmt.Errorf("read Application %s: %w", name, err)
		}
		r.Healthy = r.Healthy && app.Healthy()
		r.Applications = append(r.Applications, app)
	}
	for _, name := range names {
		for _, o := range built[name] {
			switch o.GetKind() {
			case "Deployment", "StatefulSet", "DaemonSet", "Job":
			default:
				continue
			}
			w := Workload{Ref: kube.Ref(o), Status: "NotFound"}
			live, err := applier.Get(ctx, o)
			switch {
			case err != nil && !cluster.IsNoKind(err):
				return Report{}, fmt.Errorf("read %s: %w", kube.Ref(o), err)
			case live != nil:
				s := kube.StatusOf(live)
				w.Status, w.Message = string(s.Status), s.Message
			}
			r.Healthy = r.Healthy && w.Ready()
			r.Workloads = append(r.Workloads, w)
		}
	}
	sort.Slice(r.Workloads, func(i, j int) bool { return r.Workloads[i].Ref < r.Workloads[j].Ref })
	if r.Pending, err = pendingPods(ctx, restCfg, platformNamespaces(cfg, built)); err != nil {
		return Report{}, err
	}
	r.Healthy = r.Healthy && len(r.Pending) == 0
	r.URLs = nil
	for _, entry := range generator.Entrypoints(cfg, e) {
		r.URLs = append(r.URLs, URL{entry.Name, entry.URL})
	}
	return r, nil
}

// platformNamespaces are the namespaces of the tree and Argo CD's, without
// the job namespaces: a Spark job waiting for room is gen smoke's business
// (and the user's), not the platform's health.
func platformNamespaces(cfg config.Platform, built map[string][]*unstructured.Unstructured) []string {
	jobs := map[string]bool{}
	for _, ns := range cfg.AllJobNamespaces() {
		jobs[ns] = true
	}
	seen := map[string]bool{component.ArgoCDNamespace: true}
	for _, objs := range built {
		for _, o := range objs {
			if o.GetKind() == "Namespace" && !jobs[o.GetName()] {
				seen[o.GetName()] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// pendingPods lists the pods of namespaces that no node has been found for.
func pendingPods(ctx context.Context, restCfg *rest.Config, namespaces []string) ([]PendingPod, error) {
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	var out []PendingPod
	for _, ns := range namespaces {
		// Only pods bound to no node: the scheduler's verdict is on those.
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName="})
		if err != nil {
			return nil, fmt.Errorf("list the pods of %s: %w", ns, err)
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodPending {
				continue
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
					out = append(out, PendingPod{Ref: p.Namespace + "/" + p.Name, Reason: c.Reason, Message: c.Message})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

func fromLive(u *unstructured.Unstructured) Application {
	str := func(fields ...string) string {
		s, _, _ := unstructured.NestedString(u.Object, fields...)
		return s
	}
	app := Application{
		Name:     u.GetName(),
		Sync:     str("status", "sync", "status"),
		Health:   str("status", "health", "status"),
		Revision: str("status", "sync", "revision"),
		Message:  str("status", "operationState", "message"),
	}
	if app.Sync == "" {
		app.Sync = "Unknown"
	}
	if app.Health == "" {
		app.Health = "Unknown"
	}
	if len(app.Revision) > 12 {
		app.Revision = app.Revision[:12]
	}
	return app
}

// Print writes the report as tables.
func Print(w io.Writer, r Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APPLICATION\tSYNC\tHEALTH\tREVISION\tMESSAGE")
	for _, a := range r.Applications {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Sync, a.Health, a.Revision, oneLine(a.Message))
	}
	fmt.Fprintln(tw, "\t\t\t\t")
	fmt.Fprintln(tw, "WORKLOAD\tSTATUS\tMESSAGE\t\t")
	for _, wl := range r.Workloads {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\t\n", wl.Ref, wl.Status, oneLine(wl.Message))
	}
	if len(r.Pending) > 0 {
		fmt.Fprintln(tw, "\t\t\t\t")
		fmt.Fprintln(tw, "PENDING POD\tREASON\tMESSAGE\t\t")
		for _, p := range r.Pending {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\t\n", p.Ref, p.Reason, p.Message)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	if hint := pendingHint(r.Pending); hint != "" {
		fmt.Fprintln(w, hint)
		fmt.Fprintln(w)
	}
	for _, u := range r.URLs {
		fmt.Fprintf(w, "%-22s %s\n", u.Name+":", u.URL)
	}
	if r.Healthy {
		fmt.Fprintf(w, "\nplatform %s: healthy\n", r.Environment)
	} else {
		fmt.Fprintf(w, "\nplatform %s: NOT healthy (gen doctor explains the usual causes)\n", r.Environment)
	}
}

// pendingHint says what to do about pods the scheduler cannot place.
func pendingHint(pending []PendingPod) string {
	for _, p := range pending {
		if p.NoRoom() {
			return "The node has no room for the pending pods: give Rancher Desktop's VM more CPUs or memory\n" +
				"(Preferences > Virtual Machine), or lower spec.environments[].resources and set\n" +
				"spec.environments[].capacity to what the node really has (gen render --budget shows the requests;\n" +
				"gen doctor compares them with the node)."
		}
	}
	if len(pending) > 0 {
		return "kubectl -n <namespace> describe pod <name> shows why the scheduler cannot place a pending pod."
	}
	return ""
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// Wait collects until the platform is healthy or timeout, reporting progress
// to progress each time the picture changes.
func Wait(ctx context.Context, restCfg *rest.Config, cfg config.Platform, env string, timeout, interval time.Duration, progress io.Writer) (Report, error) {
	last := ""
	var r Report
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return r, err
	}
	nudger := &sync.CRDHealthNudger{Dynamic: dyn, Out: progress}
	err = cluster.Poll(ctx, interval, timeout, func(ctx context.Context) (bool, error) {
		var err error
		if r, err = Collect(ctx, restCfg, cfg, env); err != nil {
			return false, err
		}
		if !r.Healthy {
			if err := nudgeCRDHealth(ctx, dyn, nudger, r); err != nil {
				return false, err
			}
		}
		if summary := pending(r); !r.Healthy && summary != last {
			fmt.Fprintf(progress, "  waiting: %s\n", summary)
			last = summary
		}
		return r.Healthy, nil
	})
	if errors.Is(err, cluster.ErrTimeout) {
		return r, fmt.Errorf("platform not healthy after %s: %s", timeout, pending(r))
	}
	return r, err
}

// nudgeCRDHealth asks Argo CD to look again at the report's Applications
// whose health waits on a CRD that is Established (see
// sync.CRDHealthNudger): without it, --wait could sit out Argo CD's
// reconciliation period on a platform that is up.
func nudgeCRDHealth(ctx context.Context, dyn dynamic.Interface, n *sync.CRDHealthNudger, r Report) error {
	list, err := dyn.Resource(applications).Namespace(component.ArgoCDNamespace).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || cluster.IsNoKind(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list Applications: %w", err)
	}
	names := make([]string, 0, len(r.Applications))
	for _, a := range r.Applications {
		names = append(names, a.Name)
	}
	_, err = n.Nudge(ctx, sync.Platform(names, list.Items))
	return err
}

func pending(r Report) string {
	var parts []string
	for _, a := range r.Applications {
		if !a.Healthy() {
			parts = append(parts, fmt.Sprintf("%s %s/%s", a.Name, a.Sync, a.Health))
		}
	}
	for _, w := range r.Workloads {
		if !w.Ready() {
			parts = append(parts, fmt.Sprintf("%s %s", w.Ref, w.Status))
		}
	}
	for _, p := range r.Pending {
		parts = append(parts, fmt.Sprintf("pod %s %s (%s)", p.Ref, p.Reason, oneLine(p.Message)))
	}
	return strings.Join(parts, ", ")
}
