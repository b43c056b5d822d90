package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
)

// RefreshAnnotation is the annotation that asks Argo CD's application
// controller to re-read Git now; "hard" also drops its manifest cache, so
// the new commit's manifests are generated rather than served from cache.
// The controller removes it once the refresh is done.
const RefreshAnnotation = "argocd.argoproj.io/refresh"

// Options of one sync.
type Options struct {
	// Config and Environment name the Applications to wait for: the root
	// and one per component of the rendered tree.
	Config      config.Platform
	Environment string
	// Revision is the commit every Application must report (status.sync.revision);
	// an abbreviated SHA of 7 or more characters matches as a prefix. Empty
	// waits for Synced and Healthy at any revision.
	Revision string
	// Timeout bounds the whole wait (default 5 minutes); Interval is the
	// time between two reads (default 1 second).
	Timeout, Interval time.Duration
	// Out receives progress: one line each time the picture changes.
	Out io.Writer
}

// Application is one Application as the wait saw it last.
type Application struct {
	Name     string
	Sync     string
	Health   string
	Revision string
	// Operation is the phase of Argo CD's last sync operation (Running,
	// Terminating, Succeeded, Failed, Error; empty when none ran).
	Operation string
	// Why lists what keeps it from being done: the operation's message,
	// conditions, and the resources that are not Synced or not Healthy.
	Why []string
}

// done reports whether a is Synced and Healthy at revision with no sync
// operation in flight: Argo CD can report Synced and Healthy while the
// operation that got there is still finishing (its last wave, a retry), and
// "live" means Argo CD is done.
func (a Application) done(revision string) bool {
	return a.Sync == "Synced" && a.Health == "Healthy" && revisionMatches(a.Revision, revision) &&
		a.Operation != "Running" && a.Operation != "Terminating"
}

// String is the state with every reason, for the final error.
func (a Application) String() string {
	s := a.short()
	if len(a.Why) > 0 {
		s += " (" + strings.Join(a.Why, "; ") + ")"
	}
	return s
}

// short is the state without the reasons, for progress lines.
func (a Application) short() string {
	rev := a.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		rev = "-"
	}
	s := fmt.Sprintf("%s %s/%s at %s", a.Name, a.Sync, a.Health, rev)
	if a.Operation == "Running" || a.Operation == "Terminating" {
		s += ", sync " + a.Operation
	}
	return s
}

// Result is the outcome of a sync.
type Result struct {
	// Applications in the order of the tree: the root, then the sync waves.
	Applications []Application
	// Elapsed is the time from the refresh request until every Application
	// was done (or the wait gave up).
	Elapsed time.Duration
}

var applications = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// Run requests a hard refresh of the root Application and of every platform
// Application that exists, then waits until all of them are Synced and
// Healthy at o.Revision. On timeout the error names each Application that is
// not, with its state and why.
func Run(ctx context.Context, restCfg *rest.Config, o Options) (Result, error) {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Interval == 0 {
		o.Interval = time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	cfg := o.Config
	cfg.Complete()
	if _, ok := cfg.Environment(o.Environment); !ok {
		return Result{}, fmt.Errorf("unknown environment %q", o.Environment)
	}
	// The names come from the config alone (no kustomize build, so no
	// download of the upstream install manifests).
	components, err := generator.Components(cfg)
	if err != nil {
		return Result{}, err
	}
	names := []string{argocd.RootName}
	for _, c := range components {
		names = append(names, c.Name)
	}
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return Result{}, err
	}
	apps := dyn.Resource(applications).Namespace(component.ArgoCDNamespace)

	start := time.Now()
	// The root first, so that a component new in this commit gets its
	// Application as early as possible; then every other one that exists.
	// A component Application created later by the root's sync is new, and
	// Argo CD reconciles a new Application at once.
	patch := []byte(`{"metadata":{"annotations":{"` + RefreshAnnotation + `":"hard"}}}`)
	refreshed := 0
	for _, name := range names {
		_, err := apps.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
		switch {
		case err == nil:
			refreshed++
		case apierrors.IsNotFound(err) && name != argocd.RootName:
			// Not created yet: the root's sync creates it.
		case apierrors.IsNotFound(err) || cluster.IsNoKind(err):
			return Result{}, fmt.Errorf("refresh Application %s: not found in namespace %s (has gen bootstrap run against this cluster?)", name, component.ArgoCDNamespace)
		default:
			return Result{}, fmt.Errorf("refresh Application %s: %w", name, err)
		}
	}
	want := o.Revision
	if want == "" {
		want = "any revision"
	} else if len(want) > 12 {
		want = want[:12]
	}
	fmt.Fprintf(o.Out, "✓ asked Argo CD to refresh %d Applications; waiting for %d to be Synced and Healthy at %s\n", refreshed, len(names), want)

	last := ""
	var r Result
	var pending []string
	nudger := &CRDHealthNudger{Dynamic: dyn, Out: o.Out}
	err = cluster.Poll(ctx, o.Interval, o.Timeout, func(ctx context.Context) (bool, error) {
		list, err := apps.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, fmt.Errorf("list Applications: %w", err)
		}
		if _, err := nudger.Nudge(ctx, Platform(names, list.Items)); err != nil {
			return false, err
		}
		r = Result{Applications: collect(names, list.Items), Elapsed: time.Since(start)}
		var progress []string
		pending = nil
		for _, a := range r.Applications {
			if !a.done(o.Revision) {
				pending = append(pending, a.String())
				progress = append(progress, a.short())
			}
		}
		if summary := strings.Join(progress, ", "); len(pending) > 0 && summary != last {
			fmt.Fprintf(o.Out, "  waiting (%s): %s\n", r.Elapsed.Round(time.Second), summary)
			last = summary
		}
		return len(pending) == 0, nil
	})
	switch {
	case errors.Is(err, cluster.ErrTimeout):
		return r, fmt.Errorf("not Synced and Healthy at %s after %s:\n  %s", want, o.Timeout, strings.Join(pending, "\n  "))
	case err != nil:
		return r, err
	}
	fmt.Fprintf(o.Out, "✓ every Application Synced and Healthy at %s (%s)\n", want, r.Elapsed.Round(100*time.Millisecond))
	return r, nil
}

// Platform is the Applications of items named in names.
func Platform(names []string, items []unstructured.Unstructured) []unstructured.Unstructured {
	var out []unstructured.Unstructured
	for _, u := range items {
		for _, name := range names {
			if u.GetName() == name {
				out = append(out, u)
				break
			}
		}
	}
	return out
}

// collect reads the named Applications out of items, in the order of names;
// a missing one is reported as such.
func collect(names []string, items []unstructured.Unstructured) []Application {
	byName := map[string]*unstructured.Unstructured{}
	for i := range items {
		byName[items[i].GetName()] = &items[i]
	}
	out := make([]Application, 0, len(names))
	for _, name := range names {
		u, ok := byName[name]
		if !ok {
			out = append(out, Application{Name: name, Sync: "Missing", Health: "Missing", Why: []string{"no such Application yet"}})
			continue
		}
		out = append(out, fromLive(u))
	}
	return out
}

func fromLive(u *unstructured.Unstructured) Application {
	str := func(obj map[string]any, fields ...string) string {
		s, _, _ := unstructured.NestedString(obj, fields...)
		return s
	}
	a := Application{
		Name:     u.GetName(),
		Sync:     str(u.Object, "status", "sync", "status"),
		Health:   str(u.Object, "status", "health", "status"),
		Revision: str(u.Object, "status", "sync", "revision"),
	}
	if a.Sync == "" {
		a.Sync = "Unknown"
	}
	if a.Health == "" {
		a.Health = "Unknown"
	}
	a.Operation = str(u.Object, "status", "operationState", "phase")
	if phase := a.Operation; phase != "" && phase != "Succeeded" {
		a.Why = append(a.Why, fmt.Sprintf("operation %s: %s", phase, oneLine(str(u.Object, "status", "operationState", "message"))))
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok {
			a.Why = append(a.Why, fmt.Sprintf("%v: %s", m["type"], oneLine(fmt.Sprint(m["message"]))))
		}
	}
	res, _, _ := unstructured.NestedSlice(u.Object, "status", "resources")
	var unready []string
	for _, r := range res {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		sync := str(m, "status")
		health := str(m, "health", "status")
		if sync != "Synced" || (health != "" && health != "Healthy") {
			ref := fmt.Sprintf("%v/%v", m["kind"], m["name"])
			if ns := str(m, "namespace"); ns != "" {
				ref = fmt.Sprintf("%v/%s/%v", m["kind"], ns, m["name"])
			}
			unready = append(unready, fmt.Sprintf("%s %s/%s", ref, sync, health))
		}
	}
	sort.Strings(unready)
	if len(unready) > 0 {
		a.Why = append(a.Why, "not synced or healthy: "+strings.Join(unready, ", "))
	}
	return a
}

// revisionMatches: got is Argo CD's full SHA; want is full, abbreviated
// (7+ characters) or empty (any).
func revisionMatches(got, want string) bool {
	switch {
	case want == "":
		return got != ""
	case len(want) >= 7 && len(want) < len(got):
		return strings.HasPrefix(got, want)
	default:
		return got == want
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// PushedRevision is the commit Argo CD should see for the Git checkout at
// dir: the head of the branch the current branch tracks (@{upstream}, as of
// the last push or fetch). notPushed is true when the local HEAD differs
// from it, which usually means a commit that was not pushed yet.
func PushedRevision(dir string) (rev, upstream string, notPushed bool, err error) {
	git := func(args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
		if err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) && len(exit.Stderr) > 0 {
				return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(string(exit.Stderr)))
			}
			return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	upstream, err = git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
	if err != nil {
		return "", "", false, fmt.Errorf("find the branch this checkout tracks (push with git push -u, or pass --revision): %w", err)
	}
	if rev, err = git("rev-parse", "--verify", "@{upstream}^{commit}"); err != nil {
		return "", "", false, err
	}
	head, err := git("rev-parse", "--verify", "HEAD^{commit}")
	if err != nil {
		return "", "", false, err
	}
	return rev, upstream, head != rev, nil
}

// ResolveRevision turns a revision given by name (a SHA, abbreviated or
// not, a branch, a tag, origin/main) into a commit SHA with the checkout at
// dir; outside a checkout, or for a name it does not know, it returns rev
// unchanged, which still works for a full SHA.
func ResolveRevision(dir, rev string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--verify", "--quiet", rev+"^{commit}").Output()
	if err != nil {
		return rev
	}
	return strings.TrimSpace(string(out))
}
