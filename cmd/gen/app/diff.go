package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/bootstrap/diff"
)

// DiffOptions are gen diff's flags.
type DiffOptions struct {
	clusterFlags
}

// NewDiffCommand builds gen diff.
func NewDiffCommand(streams Streams) *cobra.Command {
	var o DiffOptions
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Show what an Argo CD sync of the rendered tree would change in the cluster",
		Long: `Render the environment's overlays from the config and compare each object
with the live cluster through a server-side dry-run apply (with Argo CD's
field manager, so defaults and ownership are what a sync would see). Prints
a unified diff per changed object and exits 1 when anything differs, like
kubectl diff. Nothing is changed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.explicitContext(cmd)
			return Diff(cmd.Context(), o, streams)
		},
	}
	o.register(cmd)
	return cmd
}

// Diff runs gen diff.
func Diff(ctx context.Context, o DiffOptions, streams Streams) error {
	cfg, env, restCfg, err := o.resolve("diff")
	if err != nil {
		return err
	}
	changes, err := diff.Run(ctx, restCfg, cfg, env)
	if err != nil {
		return err
	}
	for _, c := range changes {
		fmt.Fprintf(streams.Out, "# %s %s\n%s", c.Action, c.Ref, c.Diff)
	}
	if len(changes) > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d objects would change", len(changes))}
	}
	fmt.Fprintln(streams.ErrOut, "✓ the cluster matches the tree")
	return nil
}
