package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/bootstrap/progress"
	"github.com/rdspark/gen/bootstrap/tree"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/argocd"
	"github.com/rdspark/gen/generator/config"
)

// Options of one bootstrap run. The command line fills them (gen bootstrap).
type Options struct {
	// Config is the completed, valid platform config.
	Config config.Platform
	// Environment names the overlay to install.
	Environment string

	Kubeconfig string
	Context    string
	// ContextExplicit is true when --context was given: only then is a
	// context other than rancher-desktop used.
	ContextExplicit bool
	// RESTConfig, when set, is used instead of the kubeconfig (tests).
	RESTConfig *rest.Config

	// RepoURL and Revision are what the root Application reads.
	RepoURL, Revision string
	// ArgoCDManifests overrides the Argo CD install source (a file or URL).
	ArgoCDManifests string
	// GitToken or SSHKeyPath create repository credentials for a private repo.
	GitToken, SSHKeyPath string

	// Timeout bounds the wait for Argo CD's workloads.
	Timeout time.Duration
	// RequestTimeout bounds every single API request.
	RequestTimeout time.Duration
	Wait           bool
	DryRun         bool
	// Workers is how many objects are applied at once.
	Workers int

	Out            io.Writer
	Quiet, Verbose bool

	// AfterStep, when set, runs after each step; an error stops bootstrap
	// there. Tests use it to stop a run between steps and resume it.
	AfterStep func(step string) error
}

// Step names, in order (see Steps).
const (
	StepPreflight = "preflight"
	StepFetch     = "fetch"
	StepArgoCD    = "argocd"
	StepSecrets   = "secrets"
	StepWait      = "wait"
	StepRoot      = "root"
)

// step is one named, idempotent part of a bootstrap run: a run that stopped
// after any step converges when started again.
type step struct {
	name string
	do   func(r *run, ctx context.Context) error
}

// steps is the one list the progress lines, the resume points (AfterStep)
// and Steps follow.
var steps = []step{
	{StepPreflight, (*run).preflight},
	{StepFetch, (*run).fetch},
	{StepArgoCD, (*run).installArgoCD},
	{StepSecrets, (*run).secrets},
	{StepWait, (*run).wait},
	{StepRoot, (*run).root},
}

// Steps are the names of a run's steps, in order.
func Steps() []string {
	names := make([]string, 0, len(steps))
	for _, s := range steps {
		names = append(names, s.name)
	}
	return names
}

// run is the state one bootstrap run's steps share.
type run struct {
	o        Options
	cfg      config.Platform
	env      config.Environment
	git      gitCredentials
	p        *progress.Printer
	rendered *tree.Tree
	restCfg  *rest.Config
	cs       kubernetes.Interface
	applier  *kube.Applier
	// Built by fetch, applied by the later steps.
	argoObjs, namespaceObjs, rootObjs []*unstructured.Unstructured
	changed                           atomic.Int64
}

// Run bootstraps the cluster, step by step (see Steps). Every step is
// idempotent, so a run that stopped anywhere converges when started again.
func Run(ctx context.Context, o Options) error {
	r, err := newRun(o)
	if err != nil {
		return err
	}
	for _, s := range steps {
		if s.name == StepWait && !o.Wait {
			continue
		}
		if s.name == StepArgoCD && o.DryRun {
			return dryRun(r.p, r.argoObjs, r.namespaceObjs, r.rootObjs, plannedSecrets(r.cfg, r.git))
		}
		if err := r.p.Run(s.name, func() error { return s.do(r, ctx) }); err != nil {
			return err
		}
		if o.AfterStep != nil {
			if err := o.AfterStep(s.name); err != nil {
				return err
			}
		}
	}
	if n := r.changed.Load(); n == 0 {
		r.p.Infof("nothing changed: the cluster already matched")
	} else {
		r.p.Infof("%d objects created or changed", n)
	}
	printNext(r.p, r.cfg, r.env)
	return nil
}

// newRun renders the tree and connects, before any step: a bad config fails
// here, offline, and nothing is downloaded yet.
func newRun(o Options) (*run, error) {
	if o.Workers == 0 {
		o.Workers = 8
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 15 * time.Second
	}
	r := &run{o: o, p: progress.New(o.Out, o.Quiet, o.Verbose)}
	r.cfg = o.Config
	r.cfg.Complete()
	env, ok := r.cfg.Environment(o.Environment)
	if !ok {
		return nil, fmt.Errorf("unknown environment %q (configured: %s)", o.Environment, strings.Join(r.cfg.EnvironmentNames(), ", "))
	}
	r.env = env
	// The root Application and the project read the repository bootstrap is
	// pointed at; warn when the tree in Git points elsewhere.
	if o.RepoURL != "" && o.RepoURL != r.cfg.Spec.Git.RepoURL {
		r.p.Warnf("gen.yaml's spec.git.repoURL is %s, but bootstrap points Argo CD at %s: the Applications in Git still read %s. Fix: set spec.git.repoURL: %s in gen.yaml, gen render, commit and push",
			r.cfg.Spec.Git.RepoURL, o.RepoURL, r.cfg.Spec.Git.RepoURL, o.RepoURL)
		r.cfg.Spec.Git.RepoURL = o.RepoURL
	}
	if o.Revision != "" {
		r.cfg.Spec.Git.Revision = o.Revision
	}
	r.git = gitCredentials{token: o.GitToken, sshKeyPath: o.SSHKeyPath}

	var err error
	if r.rendered, err = tree.New(r.cfg, env.Name); err != nil {
		return nil, err
	}
	r.restCfg = o.RESTConfig
	if r.restCfg == nil {
		var context string
		r.restCfg, context, err = cluster.Config(cluster.Options{Kubeconfig: o.Kubeconfig, Context: o.Context, Explicit: o.ContextExplicit, Command: "bootstrap", Timeout: o.RequestTimeout})
		if err != nil {
			return nil, err
		}
		r.p.Infof("cluster: context %s, %s", context, r.restCfg.Host)
	}
	if r.cs, err = kubernetes.NewForConfig(r.restCfg); err != nil {
		return nil, err
	}
	if r.applier, err = kube.NewApplier(r.restCfg); err != nil {
		return nil, err
	}
	return r, nil
}

// preflight checks the cluster is there, new enough, and lets gen do its
// job, and compares the platform's requests with the nodes.
func (r *run) preflight(ctx context.Context) error {
	b, err := r.rendered.Budget()
	if err != nil {
		return err
	}
	return preflight(ctx, r.restCfg, r.cs, r.cfg, r.env, b, r.p)
}

// fetch gets the Argo CD install and builds everything the later steps
// apply: gen downloads the install itself (not inside kustomize, whose error
// would bury the URL), once, and a bad install fails with nothing applied.
func (r *run) fetch(ctx context.Context) error {
	installURL := argocd.InstallURL(r.cfg)
	var install []byte
	var err error
	if r.o.ArgoCDManifests != "" {
		install, err = readInstall(ctx, r.o.ArgoCDManifests)
	} else {
		install, err = downloadInstall(ctx, installURL)
	}
	if err != nil {
		return err
	}
	if err := r.rendered.UseInstall(installURL, install); err != nil {
		return err
	}
	if r.argoObjs, r.namespaceObjs, err = r.rendered.Install(); err != nil {
		return err
	}
	r.rootObjs, err = rootObjects(r.rendered)
	return err
}

func (r *run) applyOptions() kube.Options {
	return kube.Options{Force: true, Changed: func(*unstructured.Unstructured) { r.changed.Add(1) }}
}

// installArgoCD applies the platform namespaces and Argo CD, CRDs first.
func (r *run) installArgoCD(ctx context.Context) error {
	objs := append(append([]*unstructured.Unstructured{}, r.namespaceObjs...), r.argoObjs...)
	_, err := r.applier.ApplyStaged(ctx, objs, r.applyOptions(), r.o.Workers)
	r.p.Infof("Argo CD %s and the platform namespaces: %d objects applied", r.cfg.Spec.ArgoCD.Version, len(objs))
	return err
}

// secrets creates what must never be in Git: the object store's
// credentials (kept across runs) and the repository credentials.
func (r *run) secrets(ctx context.Context) error {
	if err := ensureMinIOCredentials(ctx, r.cs, r.cfg, r.p); err != nil {
		return err
	}
	if r.git.set() {
		return ensureRepoCredentials(ctx, r.cs, r.cfg.Spec.Git.RepoURL, r.git, r.p)
	}
	return nil
}

// wait waits until Argo CD's workloads are ready.
func (r *run) wait(ctx context.Context) error {
	return waitReady(ctx, r.applier, workloads(r.argoObjs), r.o.Timeout, r.p)
}

// root hands the tree to Argo CD: the project and the root Application,
// then a refresh so it reads Git now.
func (r *run) root(ctx context.Context) error {
	if _, err := r.applier.ApplyStaged(ctx, r.rootObjs, r.applyOptions(), r.o.Workers); err != nil {
		return err
	}
	return refresh(ctx, r.restCfg)
}

// rootObjects are what bootstrap hands to Argo CD: the project and the root
// Application; Argo CD syncs everything else from Git.
func rootObjects(rendered *tree.Tree) ([]*unstructured.Unstructured, error) {
	apps, err := rendered.Build("apps")
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, o := range apps {
		if o.GetKind() == "AppProject" {
			objs = append(objs, o)
		}
	}
	root, err := rendered.Build("root")
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 || len(root) != 1 {
		return nil, errors.New("the tree lacks the AppProject or the root Application")
	}
	return append(objs, root...), nil
}

// refresh asks Argo CD to compare the root Application with Git now instead
// of at the next reconciliation (the annotation is removed by Argo CD).
func refresh(ctx context.Context, cfg *rest.Config) error {
	cs, err := dynamicFor(cfg)
	if err != nil {
		return err
	}
	patch := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}`)
	_, err = cs.Resource(applicationResource).Namespace("argocd").Patch(ctx, argocd.RootName, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "gen-refresh"})
	if err != nil {
		return fmt.Errorf("ask Argo CD to refresh %s: %w", argocd.RootName, err)
	}
	return nil
}

func dryRun(p *progress.Printer, argoObjs, namespaceObjs, rootObjs []*unstructured.Unstructured, secrets []string) error {
	var refs []string
	for _, list := range [][]*unstructured.Unstructured{namespaceObjs, argoObjs, rootObjs} {
		for _, o := range list {
			refs = append(refs, kube.Ref(o))
		}
	}
	sort.Strings(refs)
	p.Infof("dry run: would apply %d objects:", len(refs))
	for _, r := range refs {
		p.Infof("  %s", r)
	}
	p.Infof("dry run: would create, if missing (values never shown):")
	for _, s := range secrets {
		p.Infof("  %s", s)
	}
	return nil
}

func printNext(p *progress.Printer, cfg config.Platform, env config.Environment) {
	p.Infof("")
	for _, e := range generator.Entrypoints(cfg, env) {
		p.Infof("%-22s %s", e.Name+":", e.URL)
	}
	p.Infof("Argo CD admin password:")
	p.Infof("  kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d")
	p.Infof("Watch the platform sync: kubectl -n argocd get applications -w")
}
