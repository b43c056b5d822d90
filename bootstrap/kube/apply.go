package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the name gen's changes are recorded under in managedFields.
const FieldManager = "gen"

// Applier server-side applies unstructured objects.
type Applier struct {
	dynamic   dynamic.Interface
	discovery discovery.CachedDiscoveryInterface
	mapper    *restmapper.DeferredDiscoveryRESTMapper
	// FieldManager names the owner of the applied fields.
	FieldManager string
	// NewKindGrace is how long a kind that is not served yet is looked up
	// again (its CRD may have been applied a moment ago). Readers of a
	// cluster that may lack the CRDs set it to 0.
	NewKindGrace time.Duration
}

// Options of one Apply.
type Options struct {
	// DryRun asks the server to run every check (admission, validation)
	// without persisting anything.
	DryRun bool
	// Force takes ownership of fields another manager set (gen is the
	// source of truth for what it applies).
	Force bool
	// Changed, when set, is called for every object the apply created or
	// modified (found by reading it first: a no-op apply keeps its
	// resourceVersion). It may be called from several goroutines.
	Changed func(obj *unstructured.Unstructured)
}

// NewApplier builds an Applier for cfg.
func NewApplier(cfg *rest.Config) (*Applier, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(dc)
	return &Applier{
		dynamic:      dyn,
		discovery:    cached,
		mapper:       restmapper.NewDeferredDiscoveryRESTMapper(cached),
		FieldManager: FieldManager,
		NewKindGrace: 30 * time.Second,
	}, nil
}

// Ref names an object for messages: Kind/namespace/name.
func Ref(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s/%s/%s", obj.GetKind(), ns, obj.GetName())
	}
	return obj.GetKind() + "/" + obj.GetName()
}

func splitFirst(objs []*unstructured.Unstructured) (first, rest []*unstructured.Unstructured) {
	for _, o := range objs {
		switch o.GroupVersionKind().GroupKind() {
		case schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}, schema.GroupKind{Kind: "Namespace"}:
			first = append(first, o)
		default:
			rest = append(rest, o)
		}
	}
	// Namespaces before CRDs is not required, but a stable order is.
	sort.SliceStable(first, func(i, j int) bool { return first[i].GetKind() > first[j].GetKind() })
	return first, rest
}

func (a *Applier) applyEach(ctx context.Context, objs []*unstructured.Unstructured, opts Options) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		got, err := a.ApplyOne(ctx, obj, opts)
		if err != nil {
			return out, err
		}
		out = append(out, got)
	}
	return out, nil
}

// ApplyOne server-side applies one object with strict field validation.
func (a *Applier) ApplyOne(ctx context.Context, obj *unstructured.Unstructured, opts Options) (*unstructured.Unstructured, error) {
	ri, err := a.resource(ctx, obj)
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", Ref(obj), err)
	}
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", Ref(obj), err)
	}
	po := metav1.PatchOptions{FieldManager: a.FieldManager, Force: &opts.Force, FieldValidation: metav1.FieldValidationStrict}
	if opts.DryRun {
		po.DryRun = []string{metav1.DryRunAll}
	}
	before := ""
	if opts.Changed != nil {
		live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		switch {
		case err == nil:
			before = live.GetResourceVersion()
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("read %s: %w", Ref(obj), err)
		}
	}
	got, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, po)
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", Ref(obj), err)
	}
	if opts.Changed != nil && got.GetResourceVersion() != before {
		opts.Changed(got)
	}
	return got, nil
}

// resource finds the API resource of obj. A kind that is not served yet is
// looked up again (with fresh discovery) for NewKindGrace, or until ctx is
// cancelled.
func (a *Applier) resource(ctx context.Context, obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	for deadline := time.Now().Add(a.NewKindGrace); meta.IsNoMatchError(err) && time.Now().Before(deadline); {
		a.mapper.Reset()
		if mapping, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); meta.IsNoMatchError(err) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			return nil, fmt.Errorf("namespaced kind without a namespace")
		}
		return a.dynamic.Resource(mapping.Resource).Namespace(obj.GetNamespace()), nil
	}
	return a.dynamic.Resource(mapping.Resource), nil
}

// Get reads the live state of obj; nil when it does not exist.
func (a *Applier) Get(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ri, err := a.resource(ctx, obj)
	if err != nil {
		return nil, err
	}
	live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return live, err
}

// waitForKindsOf waits until the CRDs among first that define a kind used in
// rest are Established. Only those: Argo CD's install defines CRDs but
// creates none of their objects, and waiting for the API server to establish
// them (seconds) is most of an install's time.
func (a *Applier) waitForKindsOf(ctx context.Context, first, rest []*unstructured.Unstructured, opts Options) error {
	if opts.DryRun {
		return nil
	}
	used := map[schema.GroupKind]bool{}
	for _, o := range rest {
		used[o.GroupVersionKind().GroupKind()] = true
	}
	var crds []string
	for _, o := range first {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		if used[schema.GroupKind{Group: group, Kind: kind}] {
			crds = append(crds, o.GetName())
		}
	}
	if len(crds) == 0 {
		return nil
	}
	if err := a.WaitEstablished(ctx, crds); err != nil {
		return err
	}
	// New kinds are served now; forget what discovery said before.
	a.mapper.Reset()
	return nil
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// WaitEstablished polls until every named CRD has condition Established=True
// (polling, because the conditions may not exist yet right after apply).
func (a *Applier) WaitEstablished(ctx context.Context, names []string) error {
	pending := append([]string{}, names...)
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var still []string
		for _, name := range pending {
			crd, err := a.dynamic.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) {
					still = append(still, name)
					continue
				}
				return false, err
			}
			if !established(crd) {
				still = append(still, name)
			}
		}
		pending = still
		return len(pending) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("wait for CRDs to be established (%s): %w", strings.Join(pending, ", "), err)
	}
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conditions {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// ApplyConcurrently applies objs that do not depend on each other (their
// namespaces and CRDs exist) with up to workers requests in flight: the API
// server handles them in parallel, which is most of what makes gen's install
// faster than kubectl's one-by-one apply. Results keep the input order. The
// first error stops the rest (objects not applied yet are skipped, requests
// in flight are cancelled) and is returned after every worker has stopped:
// against an API server that stopped answering, each remaining object would
// otherwise wait out its own request timeout, minutes for an install.
func (a *Applier) ApplyConcurrently(ctx context.Context, objs []*unstructured.Unstructured, opts Options, workers int) ([]*unstructured.Unstructured, error) {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
	)
	out := make([]*unstructured.Unstructured, len(objs))
	next := make(chan int)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range next {
				if ctx.Err() != nil {
					continue
				}
				got, err := a.ApplyOne(ctx, objs[i], opts)
				out[i] = got
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range objs {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		<-done
	}
	if firstErr == nil && ctx.Err() != nil {
		// The caller's context ended: report that, not a half-applied success.
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// ApplyStaged applies CRDs and Namespaces first, waits until the CRDs are
// Established, then applies the rest concurrently.
func (a *Applier) ApplyStaged(ctx context.Context, objs []*unstructured.Unstructured, opts Options, workers int) ([]*unstructured.Unstructured, error) {
	first, rest := splitFirst(objs)
	applied, err := a.ApplyConcurrently(ctx, first, opts, workers)
	if err != nil {
		return applied, err
	}
	if err := a.waitForKindsOf(ctx, first, rest, opts); err != nil {
		return applied, err
	}
	more, err := a.ApplyConcurrently(ctx, rest, opts, workers)
	return append(applied, more...), err
}

// Delete deletes obj (background propagation: owned objects go after it).
func (a *Applier) Delete(ctx context.Context, obj *unstructured.Unstructured) error {
	ri, err := a.resource(ctx, obj)
	if err != nil {
		return err
	}
	policy := metav1.DeletePropagationBackground
	return ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy})
}
