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

	"github.com/rdspark/gen/bootstrap/kube"
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

// Step names, in order.
const (
	StepPreflight = "preflight"
	StepArgoCD    = "argocd"
	StepSecrets   = "secrets"
	StepWait      = "wait"
	StepRoot      = "root"
)

// Run bootstraps the cluster: preflight, Argo CD, Secrets, wait, root
// Application. Every step is idempotent, so a run that stopped anywhere
// converges when started again.
func Run(ctx context.Context, o Options) error {
	if o.Workers == 0 {
		o.Workers = 8
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 15 * time.Second
	}
	p := newPrinter(o.Out, o.Quiet, o.Verbose)
	cfg := o.Config
	cfg.Complete()
	env, ok := cfg.Environment(o.Environment)
	if !ok {
		return fmt.Errorf("unknown environment %q (configured: %s)", o.Environment, strings.Join(cfg.EnvironmentNames(), ", "))
	}
	// The root Application and the project read the repository bootstrap is
	// pointed at; warn when the tree in Git points elsewhere.
	if o.RepoURL != "" && o.RepoURL != cfg.Spec.Git.RepoURL {
		p.warnf("gen.yaml's spec.git.repoURL is %s, but bootstrap points Argo CD at %s: the Applications in Git still read %s. Fix: set spec.git.repoURL: %s in gen.yaml, gen render, commit and push",
			cfg.Spec.Git.RepoURL, o.RepoURL, cfg.Spec.Git.RepoURL, o.RepoURL)
		cfg.Spec.Git.RepoURL = o.RepoURL
	}
	if o.Revision != "" {
		cfg.Spec.Git.Revision = o.Revision
	}
	git := gitCredentials{token: o.GitToken, sshKeyPath: o.SSHKeyPath}

	// Render before connecting (offline: a bad config fails here); download
	// nothing before preflight has said the cluster is there and usable.
	tree, err := NewTree(cfg, env.Name)
	if err != nil {
		return err
	}

	restCfg := o.RESTConfig
	if restCfg == nil {
		var context string
		restCfg, context, err = Connect(o.Kubeconfig, o.Context, o.ContextExplicit, o.RequestTimeout)
		if err != nil {
			return err
		}
		p.infof("cluster: context %s, %s", context, restCfg.Host)
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	applier, err := kube.NewApplier(restCfg)
	if err != nil {
		return err
	}

	run := func(name string, fn func() error) error {
		start := time.Now()
		err := fn()
		p.step(name, start, err)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if o.AfterStep != nil {
			return o.AfterStep(name)
		}
		return nil
	}

	b, err := tree.Budget()
	if err != nil {
		return err
	}
	if err := run(StepPreflight, func() error { return preflight(ctx, restCfg, cs, cfg, env, b, p) }); err != nil {
		return err
	}

	// Build everything before applying anything: the Argo CD install is
	// downloaded here, once, by gen (not inside kustomize, whose error would
	// bury the URL), and a bad install file fails with nothing applied.
	installURL := argocd.InstallURL(cfg)
	var install []byte
	if o.ArgoCDManifests != "" {
		install, err = readInstall(ctx, o.ArgoCDManifests)
	} else {
		install, err = downloadInstall(ctx, installURL)
	}
	if err != nil {
		return err
	}
	if err := tree.UseInstall(installURL, install); err != nil {
		return err
	}
	argoObjs, namespaceObjs, err := tree.Install()
	if err != nil {
		return err
	}
	rootObjs, err := rootObjects(tree)
	if err != nil {
		return err
	}
	if o.DryRun {
		return dryRun(p, argoObjs, namespaceObjs, rootObjs, plannedSecrets(cfg, git))
	}

	var changed atomic.Int64
	applyOpts := kube.Options{Force: true, Changed: func(*unstructured.Unstructured) { changed.Add(1) }}
	if err := run(StepArgoCD, func() error {
		objs := append(append([]*unstructured.Unstructured{}, namespaceObjs...), argoObjs...)
		_, err := applier.ApplyStaged(ctx, objs, applyOpts, o.Workers)
		p.infof("Argo CD %s and the platform namespaces: %d objects applied", cfg.Spec.ArgoCD.Version, len(objs))
		return err
	}); err != nil {
		return err
	}
	if err := run(StepSecrets, func() error {
		if err := ensureMinIOCredentials(ctx, cs, cfg, p); err != nil {
			return err
		}
		if git.set() {
			return ensureRepoCredentials(ctx, cs, cfg.Spec.Git.RepoURL, git, p)
		}
		return nil
	}); err != nil {
		return err
	}
	if o.Wait {
		if err := run(StepWait, func() error { return waitReady(ctx, applier, workloads(argoObjs), o.Timeout, p) }); err != nil {
			return err
		}
	}
	if err := run(StepRoot, func() error {
		if _, err := applier.ApplyStaged(ctx, rootObjs, applyOpts, o.Workers); err != nil {
			return err
		}
		return refresh(ctx, restCfg)
	}); err != nil {
		return err
	}

	if n := changed.Load(); n == 0 {
		p.infof("nothing changed: the cluster already matched")
	} else {
		p.infof("%d objects created or changed", n)
	}
	printNext(p, cfg, env)
	return nil
}

// InstallObjects are what the argocd step applies for env: the platform
// namespaces and the built Argo CD overlay (installSource, when set,
// replacing the upstream install URL, like --argocd-manifests).
func InstallObjects(ctx context.Context, cfg config.Platform, env, installSource string) ([]*unstructured.Unstructured, error) {
	cfg.Complete()
	tree, err := NewTree(cfg, env)
	if err != nil {
		return nil, err
	}
	var content []byte
	if installSource != "" {
		content, err = readInstall(ctx, installSource)
	} else {
		content, err = downloadInstall(ctx, argocd.InstallURL(cfg))
	}
	if err != nil {
		return nil, err
	}
	if err := tree.UseInstall(argocd.InstallURL(cfg), content); err != nil {
		return nil, err
	}
	argoObjs, namespaceObjs, err := tree.Install()
	return append(namespaceObjs, argoObjs...), err
}

// rootObjects are what bootstrap hands to Argo CD: the project and the root
// Application; Argo CD syncs everything else from Git.
func rootObjects(tree *Tree) ([]*unstructured.Unstructured, error) {
	apps, err := tree.Build("apps")
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, o := range apps {
		if o.GetKind() == "AppProject" {
			objs = append(objs, o)
		}
	}
	root, err := tree.Build("root")
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

func dryRun(p *printer, argoObjs, namespaceObjs, rootObjs []*unstructured.Unstructured, secrets []string) error {
	var refs []string
	for _, list := range [][]*unstructured.Unstructured{namespaceObjs, argoObjs, rootObjs} {
		for _, o := range list {
			refs = append(refs, kube.Ref(o))
		}
	}
	sort.Strings(refs)
	p.infof("dry run: would apply %d objects:", len(refs))
	for _, r := range refs {
		p.infof("  %s", r)
	}
	p.infof("dry run: would create, if missing (values never shown):")
	for _, s := range secrets {
		p.infof("  %s", s)
	}
	return nil
}

func printNext(p *printer, cfg config.Platform, env config.Environment) {
	p.infof("")
	for _, e := range generator.Entrypoints(cfg, env) {
		p.infof("%-22s %s", e.Name+":", e.URL)
	}
	p.infof("Argo CD admin password:")
	p.infof("  kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d")
	p.infof("Watch the platform sync: kubectl -n argocd get applications -w")
}
