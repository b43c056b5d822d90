package app

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/bootstrap/teardown"
)

// TeardownOptions are gen teardown's flags.
type TeardownOptions struct {
	clusterFlags
	Purge   bool
	Timeout time.Duration
}

// NewTeardownCommand builds gen teardown.
func NewTeardownCommand(streams Streams) *cobra.Command {
	o := TeardownOptions{Timeout: 10 * time.Minute}
	cmd := &cobra.Command{
		Use:   "teardown",
		Short: "Remove the platform and Argo CD (MinIO's data is kept unless --purge)",
		Long: `Delete every component Application with cascade (Argo CD deletes
everything it synced), wait until the platform is gone, then uninstall Argo
CD. The root Application and Argo CD's own go first without cascade, so that
Argo CD neither removes the project the others need to finish nor itself
while they wait for it. MinIO's namespace, data volume and credentials
Secret are kept unless --purge.

It works on a half-installed cluster: when Argo CD is not running, gen drops
the Applications' finalizers and deletes the platform itself. A namespace
stuck terminating is named with what holds it. Like bootstrap, it refuses any
context but rancher-desktop unless --context names it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.explicitContext(cmd)
			return Teardown(cmd.Context(), o, streams)
		},
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&o.Purge, "purge", false, "also delete MinIO's data volume and the credentials Secret")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait for the platform to go")
	return cmd
}

// Teardown runs gen teardown.
func Teardown(ctx context.Context, o TeardownOptions, streams Streams) error {
	cfg, env, restCfg, err := o.resolve("teardown")
	if err != nil {
		return err
	}
	return teardown.Run(ctx, restCfg, teardown.Options{
		Config: cfg, Environment: env, Purge: o.Purge, Timeout: o.Timeout, Out: streams.ErrOut,
	})
}
