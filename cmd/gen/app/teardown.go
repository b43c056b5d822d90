package app

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/bootstrap/teardown"
)

// NewTeardownCommand builds gen teardown.
func NewTeardownCommand(streams Streams) *cobra.Command {
	var (
		flags   clusterFlags
		purge   bool
		timeout time.Duration
	)
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
			cfg, env, restCfg, err := flags.resolve(cmd)
			if err != nil {
				return err
			}
			return teardown.Run(context.Background(), restCfg, teardown.Options{
				Config: cfg, Environment: env, Purge: purge, Timeout: timeout, Out: streams.ErrOut,
			})
		},
	}
	flags.register(cmd)
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete MinIO's data volume and the credentials Secret")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the platform to go")
	return cmd
}
