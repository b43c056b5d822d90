package app

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/bootstrap"
	"github.com/rdspark/gen/bootstrap/cluster"
)

// BootstrapOptions are the flags of gen bootstrap.
type BootstrapOptions struct {
	ConfigPath      string
	Env             string
	Kubeconfig      string
	Context         string
	RepoURL         string
	Revision        string
	ArgoCDManifests string
	GitToken        string
	SSHKey          string
	Timeout         time.Duration
	DryRun          bool
	Wait            bool
	Quiet, Verbose  bool
}

// NewBootstrapCommand builds gen bootstrap.
func NewBootstrapCommand(streams Streams) *cobra.Command {
	o := BootstrapOptions{Context: cluster.DefaultContext, Timeout: 10 * time.Minute, Wait: true}
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Install Argo CD on the cluster and point it at the tree (once per laptop)",
		Long: `Bootstrap a cluster, once per laptop (and safely again whenever unsure):

  1. preflight  the API server answers, its version is supported, you may do
                what bootstrap does, Traefik and the node address match the config
  2. argocd     Argo CD (manifests/argocd of the tree, upstream install + gen's
                patches) and the platform namespaces, server-side applied:
                CRDs and namespaces first, then the rest
  3. secrets    MinIO root credentials, generated once and kept on every later
                run, copied into each namespace that reads them; Git credentials
                with --git-token/GEN_GIT_TOKEN or --ssh-key. Never printed, never in Git.
  4. wait       Argo CD's workloads ready (kstatus), with progress
  5. root       the AppProject and the root Application; Argo CD syncs the rest from Git

Only the rancher-desktop context is used unless another one is named with
--context, so a production cluster is never touched by accident. A second run
changes nothing and says so; a run stopped anywhere converges when run again.`,
		Example: `  gen bootstrap
  gen bootstrap --dry-run                      # list what would be applied, touch nothing
  gen bootstrap --argocd-manifests install.yaml  # offline: a local copy of Argo CD's install
  GEN_GIT_TOKEN=... gen bootstrap --repo-url https://github.com/me/private-platform.git`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Bootstrap(cmd.Context(), o, cmd.Flags().Changed("context"), streams)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "config file (default: gen.yaml in the current folder, else the built-in defaults)")
	f.StringVar(&o.Env, "env", "", "environment (overlay) to install (default: the first in the config)")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.Context, "context", o.Context, "kubeconfig context; any other than rancher-desktop must be named here")
	f.StringVar(&o.RepoURL, "repo-url", "", "Git repository Argo CD reads (default: the origin remote of this checkout, SSH turned into HTTPS without --ssh-key)")
	f.StringVar(&o.Revision, "revision", "", "branch, tag or commit Argo CD follows (default: spec.git.revision)")
	f.StringVar(&o.ArgoCDManifests, "argocd-manifests", "", "Argo CD install manifests (file or URL) instead of the config's upstream URL")
	f.StringVar(&o.GitToken, "git-token", os.Getenv("GEN_GIT_TOKEN"), "token for a private HTTPS repository (default: $GEN_GIT_TOKEN)")
	f.StringVar(&o.SSHKey, "ssh-key", "", "private key file for an SSH repository")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait for Argo CD to become ready")
	f.BoolVar(&o.DryRun, "dry-run", false, "print every object and Secret (names only) bootstrap would apply or create, and touch nothing")
	f.BoolVar(&o.Wait, "wait", o.Wait, "wait until Argo CD's workloads are ready")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print errors only")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "print details")
	return cmd
}

// Bootstrap runs gen bootstrap.
func Bootstrap(ctx context.Context, o BootstrapOptions, contextExplicit bool, streams Streams) error {
	cfg, _, err := loadConfig(o.ConfigPath, ".")
	if err != nil {
		return err
	}
	env := o.Env
	if env == "" {
		env = cfg.Spec.Environments[0].Name
	}
	repoURL := o.RepoURL
	if repoURL == "" {
		if origin, err := bootstrap.OriginURL("."); err == nil {
			repoURL = origin
			if o.SSHKey == "" {
				repoURL = bootstrap.HTTPSRemote(origin)
			}
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return bootstrap.Run(ctx, bootstrap.Options{
		Config:          cfg,
		Environment:     env,
		Kubeconfig:      o.Kubeconfig,
		Context:         o.Context,
		ContextExplicit: contextExplicit,
		RepoURL:         repoURL,
		Revision:        o.Revision,
		ArgoCDManifests: o.ArgoCDManifests,
		GitToken:        o.GitToken,
		SSHKeyPath:      o.SSHKey,
		Timeout:         o.Timeout,
		Wait:            o.Wait,
		DryRun:          o.DryRun,
		Out:             streams.ErrOut,
		Quiet:           o.Quiet,
		Verbose:         o.Verbose,
	})
}
