package app

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	gensync "github.com/rdspark/gen/bootstrap/sync"
)

// SyncOptions are gen sync's flags.
type SyncOptions struct {
	clusterFlags
	Revision string
	// Dir is the Git checkout whose tracked branch gives the default
	// revision.
	Dir     string
	Timeout time.Duration
}

// NewSyncCommand builds gen sync.
func NewSyncCommand(streams Streams) *cobra.Command {
	o := SyncOptions{Dir: ".", Timeout: 5 * time.Minute}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Make the pushed commit live now and wait until every Application runs it",
		Long: `After git push, Argo CD notices the new commit at its next poll (every
3 minutes by default). gen sync asks it to re-read Git now: a hard refresh
(annotation argocd.argoproj.io/refresh=hard) of the root Application and of
every platform Application, then it waits, with progress on stderr, until
each one is Synced and Healthy at the pushed commit.

The commit is the head of the branch this checkout tracks (git rev-parse
@{upstream}, as of your last push), or --revision. It fails, naming every
Application that is not there yet with its sync and health status and the
resources that hold it back, when --timeout passes.

  edit gen.yaml; gen render; git commit -am "..."; git push
  gen sync`,
		Example: `  gen sync                         # the commit you just pushed
  gen sync --revision 3f2c1ab      # a given commit (or branch, tag, origin/main)
  gen sync --timeout 10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.explicitContext(cmd)
			return Sync(cmd.Context(), o, streams)
		},
	}
	o.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Revision, "revision", "", "commit every Application must run (default: the head of the branch this checkout tracks, @{upstream})")
	f.StringVar(&o.Dir, "repo", o.Dir, "the Git checkout that gives the default revision")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait for every Application")
	return cmd
}

// Sync runs gen sync.
func Sync(ctx context.Context, o SyncOptions, streams Streams) error {
	rev := o.Revision
	if rev == "" {
		pushed, upstream, notPushed, err := gensync.PushedRevision(o.Dir)
		if err != nil {
			return err
		}
		rev = pushed
		if notPushed {
			fmt.Fprintf(streams.ErrOut, "! HEAD is not %s (%.12s): waiting for what was pushed; git push first to sync your latest commit\n", upstream, rev)
		}
	} else {
		rev = gensync.ResolveRevision(o.Dir, rev)
	}
	cfg, env, restCfg, err := o.resolve("sync")
	if err != nil {
		return err
	}
	_, err = gensync.Run(ctx, restCfg, gensync.Options{
		Config: cfg, Environment: env, Revision: rev, Timeout: o.Timeout, Out: streams.ErrOut,
	})
	return err
}
