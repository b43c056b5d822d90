// Package teardown removes the platform: the component Applications with
// cascade (Argo CD deletes what it synced; the root and Argo CD's own
// Application go without, see applications), then what Argo CD keeps or
// cannot delete (the platform namespaces and CRDs, or everything when Argo
// CD is not running), then Argo CD itself. MinIO's data volume and
// credentials stay unless purging.
package teardown

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/progress"
	"github.com/rdspark/gen/bootstrap/tree"
	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
)

// Options of a teardown.
type Options struct {
	Config      config.Platform
	Environment string
	// Purge also deletes MinIO's namespace: its data volume and credentials.
	Purge   bool
	Timeout time.Duration
	// Interval between polls while waiting.
	Interval time.Duration
	Out      io.Writer
}

var applications = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

type teardown struct {
	o        Options
	cs       kubernetes.Interface
	dyn      dynamic.Interface
	applier  *kube.Applier
	rendered *tree.Tree
}

// Run tears the platform down. It works on a half-installed cluster: every
// step skips what is not there.
func Run(ctx context.Context, restCfg *rest.Config, o Options) error {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Interval == 0 {
		o.Interval = 2 * time.Second
	}
	cfg := o.Config
	cfg.Complete()
	rendered, err := tree.New(cfg, o.Environment)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	applier, err := kube.NewApplier(restCfg)
	if err != nil {
		return err
	}
	applier.NewKindGrace = 0 // a kind that is not served has nothing to delete
	t := &teardown{o: o, cs: cs, dyn: dyn, applier: applier, rendered: rendered}
	deadline := time.Now().Add(o.Timeout)

	step := progress.New(o.Out, false, false).Run
	if err := step("delete the Applications", func() error { return t.applications(ctx, deadline) }); err != nil {
		return err
	}
	if err := step("delete the platform", func() error { return t.platform(ctx, deadline) }); err != nil {
		return err
	}
	if err := step("uninstall Argo CD", func() error { return t.argoCD(ctx, deadline) }); err != nil {
		return err
	}
	if !o.Purge {
		fmt.Fprintf(o.Out, "  kept namespace %s with the object store's volume and the %s Secret (gen teardown --purge deletes them)\n",
			component.MinIONamespace, cfg.Spec.MinIO.CredentialsSecret)
	}
	return nil
}

// applications deletes the Applications. When Argo CD runs, each component
// Application goes with cascade (its finalizer: Argo CD deletes what it
// synced), but not through the root: Argo CD deletes a root's resources
// wave by wave, last wave first, and the AppProject (wave 0) goes in the
// same wave as the namespaces and CRD Applications, which can then never
// be finalized ("error getting app project": measured with Argo CD 3.6.1,
// they hang); and the argocd Application (wave -1) would delete Argo CD's
// own controller while the root still waits for it. So the root and the
// argocd Application lose their finalizers and go first, leaving the
// component Applications and Argo CD running; then every component
// Application is deleted while its project still exists; Argo CD itself is
// uninstalled at the end ("uninstall Argo CD"). When Argo CD is not
// running, it drops the finalizers, which nothing would ever remove, and
// deletes them.
func (t *teardown) applications(ctx context.Context, deadline time.Time) error {
	apps := t.dyn.Resource(applications).Namespace(component.ArgoCDNamespace)
	list, err := apps.List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=" + component.PartOf})
	if apierrors.IsNotFound(err) || cluster.IsNoKind(err) {
		fmt.Fprintln(t.o.Out, "  no Argo CD Applications (Argo CD is not installed)")
		return nil
	}
	if err != nil {
		return err
	}
	if len(list.Items) == 0 {
		return nil
	}
	if t.argoRunning(ctx) {
		for _, name := range []string{argocd.RootName, argocd.Name} {
			if err := t.deleteWithoutCascade(ctx, name); err != nil {
				return err
			}
		}
		fmt.Fprintf(t.o.Out, "  deleted %s and %s without cascade; deleting the component Applications: Argo CD deletes what it synced\n", argocd.RootName, argocd.Name)
		for _, app := range list.Items {
			if name := app.GetName(); name != argocd.RootName && name != argocd.Name {
				if err := apps.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return fmt.Errorf("delete Application %s: %w", name, err)
				}
			}
		}
		return t.waitGone(ctx, deadline, "Applications", func() ([]string, error) {
			l, err := apps.List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=" + component.PartOf})
			if err != nil {
				return nil, err
			}
			return names(l.Items), nil
		})
	}
	fmt.Fprintln(t.o.Out, "  Argo CD is not running: removing the Applications' finalizers and deleting the platform directly")
	for _, app := range list.Items {
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		if _, err := apps.Patch(ctx, app.GetName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("remove finalizers of Application %s: %w", app.GetName(), err)
		}
		if err := apps.Delete(ctx, app.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete Application %s: %w", app.GetName(), err)
		}
	}
	return nil
}

// deleteWithoutCascade removes the Application's finalizer, so that Argo CD
// leaves what it synced in place, and deletes it.
func (t *teardown) deleteWithoutCascade(ctx context.Context, name string) error {
	apps := t.dyn.Resource(applications).Namespace(component.ArgoCDNamespace)
	patch := []byte(`{"metadata":{"finalizers":null}}`)
	if _, err := apps.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("remove finalizers of Application %s: %w", name, err)
	}
	if err := apps.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete Application %s: %w", name, err)
	}
	return nil
}

func (t *teardown) argoRunning(ctx context.Context) bool {
	s, err := t.cs.AppsV1().StatefulSets(component.ArgoCDNamespace).Get(ctx, "argocd-application-controller", metav1.GetOptions{})
	return err == nil && s.Status.ReadyReplicas > 0
}

// kept reports whether teardown leaves obj in place (MinIO's data without --purge).
func (t *teardown) kept(obj *unstructured.Unstructured) bool {
	if t.o.Purge {
		return false
	}
	switch {
	case obj.GetKind() == "Namespace" && obj.GetName() == component.MinIONamespace:
		return true
	case obj.GetKind() == "PersistentVolumeClaim" && obj.GetNamespace() == component.MinIONamespace:
		return true
	}
	return false
}

// platform deletes every object of the component overlays (what Argo CD
// kept, or everything when it did not run), last wave first, then waits
// until the deleted namespaces are gone.
func (t *teardown) platform(ctx context.Context, deadline time.Time) error {
	order, built, err := t.rendered.Components()
	if err != nil {
		return err
	}
	var namespaces []string
	for i := len(order) - 1; i >= 0; i-- {
		if order[i] == argocd.Name {
			continue
		}
		for _, o := range built[order[i]] {
			if t.kept(o) {
				continue
			}
			if o.GetKind() == "Namespace" {
				namespaces = append(namespaces, o.GetName())
			}
			if err := t.delete(ctx, o); err != nil {
				return err
			}
		}
	}
	sort.Strings(namespaces)
	return t.waitNamespaces(ctx, deadline, namespaces)
}

// argoCD deletes Argo CD's objects and its namespace.
func (t *teardown) argoCD(ctx context.Context, deadline time.Time) error {
	objs, err := t.rendered.Build(argocd.Name)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			continue
		}
		if err := t.delete(ctx, o); err != nil {
			return err
		}
	}
	if err := t.cs.CoreV1().Namespaces().Delete(ctx, component.ArgoCDNamespace, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return t.waitNamespaces(ctx, deadline, []string{component.ArgoCDNamespace})
}

func (t *teardown) delete(ctx context.Context, o *unstructured.Unstructured) error {
	err := t.applier.Delete(ctx, o)
	if err == nil || apierrors.IsNotFound(err) || cluster.IsNoKind(err) {
		return nil
	}
	return fmt.Errorf("delete %s: %w", kube.Ref(o), err)
}

// waitNamespaces waits until namespaces are gone; one stuck terminating is
// named with what the namespace controller says keeps it.
func (t *teardown) waitNamespaces(ctx context.Context, deadline time.Time, namespaces []string) error {
	return t.waitGone(ctx, deadline, "namespaces", func() ([]string, error) {
		var left []string
		for _, name := range namespaces {
			ns, err := t.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			left = append(left, name+describe(ns))
		}
		return left, nil
	})
}

func describe(ns *corev1.Namespace) string {
	var why []string
	for _, c := range ns.Status.Conditions {
		if c.Status == corev1.ConditionTrue && c.Message != "" {
			why = append(why, c.Message)
		}
	}
	if len(why) == 0 {
		return " (" + string(ns.Status.Phase) + ")"
	}
	return " (" + string(ns.Status.Phase) + ": " + strings.Join(why, "; ") + ")"
}

func (t *teardown) waitGone(ctx context.Context, deadline time.Time, what string, left func() ([]string, error)) error {
	last := ""
	err := cluster.Poll(ctx, t.o.Interval, time.Until(deadline), func(context.Context) (bool, error) {
		remaining, err := left()
		if err != nil {
			return false, err
		}
		if summary := strings.Join(remaining, ", "); len(remaining) > 0 && summary != last {
			fmt.Fprintf(t.o.Out, "  waiting for %s to go: %s\n", what, summary)
			last = summary
		}
		return len(remaining) == 0, nil
	})
	if errors.Is(err, cluster.ErrTimeout) {
		return fmt.Errorf("%s still there after %s: %s\n(a namespace stuck terminating is usually waiting for a finalizer: kubectl get ns <name> -o yaml shows which; re-run gen teardown after fixing it)", what, t.o.Timeout, last)
	}
	return err
}

func names(items []unstructured.Unstructured) []string {
	out := make([]string, 0, len(items))
	for _, i := range items {
		out = append(out, i.GetName())
	}
	return out
}
