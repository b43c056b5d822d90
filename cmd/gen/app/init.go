package app

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/bootstrap/initconfig"
)

// InitOptions are the flags of gen init.
type InitOptions struct {
	Path       string
	RepoURL    string
	Revision   string
	KeepSSH    bool
	Kubeconfig string
	Context    string
	NoCluster  bool
}

// NewInitCommand builds gen init.
func NewInitCommand(streams Streams) *cobra.Command {
	o := InitOptions{Path: ConfigFileName, Context: cluster.DefaultContext}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented gen.yaml for this checkout (repository, branch, node address)",
		Long: `Write gen.yaml for this Git checkout, so that the tree gen render writes
points Argo CD at your repository:

  spec.git.repoURL            the origin remote (an SSH remote as HTTPS, unless --keep-ssh)
  spec.git.revision           the branch checked out now
  environments[0].nodeIP      the node's InternalIP, when the rancher-desktop
                              context answers (else the default stays)

Every other field keeps its built-in default (gen config default lists them).
An existing gen.yaml is never overwritten.`,
		Example: `  gen init && gen render && git add -A && git commit -m "platform" && git push && gen bootstrap
  gen init --keep-ssh      # Argo CD reads the repository over SSH (gen bootstrap --ssh-key)
  gen init --no-cluster    # do not ask Rancher Desktop for the node address`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Init(cmd.Context(), o, cmd.Flags().Changed("context"), streams)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Path, "config", "c", o.Path, "file to write; refused when it exists")
	f.StringVar(&o.RepoURL, "repo-url", "", "Git repository Argo CD reads (default: the origin remote of this checkout)")
	f.StringVar(&o.Revision, "revision", "", "branch, tag or commit Argo CD follows (default: the current branch)")
	f.BoolVar(&o.KeepSSH, "keep-ssh", false, "keep an SSH origin as it is instead of its HTTPS form")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.Context, "context", o.Context, "kubeconfig context asked for the node address")
	f.BoolVar(&o.NoCluster, "no-cluster", false, "do not ask the cluster for the node address")
	return cmd
}

// Init runs gen init.
func Init(ctx context.Context, o InitOptions, contextExplicit bool, streams Streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	opts := initconfig.Options{Path: o.Path, RepoURL: o.RepoURL, Revision: o.Revision, KeepSSH: o.KeepSSH, Out: streams.ErrOut}
	if !o.NoCluster {
		opts.NodeIP = func(ctx context.Context) (string, error) {
			// A laptop whose cluster is stopped must not wait: a few seconds, then the default.
			restCfg, _, err := cluster.Config(cluster.Options{Kubeconfig: o.Kubeconfig, Context: o.Context, Explicit: contextExplicit, Command: "init", Timeout: 5 * time.Second})
			if err != nil {
				return "", err
			}
			cs, err := kubernetes.NewForConfig(restCfg)
			if err != nil {
				return "", err
			}
			return initconfig.NodeInternalIP(ctx, cs)
		}
	}
	path, err := initconfig.Write(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(streams.ErrOut, "%s wrote %s; next: gen render, commit and push, gen bootstrap\n", initconfig.OKMark(), path)
	return nil
}
