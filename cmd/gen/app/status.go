package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/bootstrap/status"
)

// NewStatusCommand builds gen status.
func NewStatusCommand(streams Streams) *cobra.Command {
	var (
		flags   clusterFlags
		output  string
		wait    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the platform is up: Applications, workloads, URLs",
		Long: `One screen that answers "is my platform up?": every Argo CD Application of
the environment with its sync status, health and revision, every platform
workload ready or not (kstatus), and the URLs.

Exit status is 0 when everything is Synced, Healthy and ready, 1 otherwise;
--wait blocks until it is (progress on stderr) or --timeout passes.`,
		Example: `  gen status
  gen status -o json | jq .healthy
  gen status --wait --timeout 15m    # after gen bootstrap`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o: %q is not text or json", output)
			}
			cfg, env, restCfg, err := flags.resolve(cmd)
			if err != nil {
				return err
			}
			ctx := context.Background()
			var r status.Report
			if wait {
				r, err = status.Wait(ctx, restCfg, cfg, env, timeout, 3*time.Second, streams.ErrOut)
			} else {
				r, err = status.Collect(ctx, restCfg, cfg, env)
			}
			if r.Environment != "" {
				if output == "json" {
					enc := json.NewEncoder(streams.Out)
					enc.SetIndent("", "  ")
					if encErr := enc.Encode(r); encErr != nil {
						return encErr
					}
				} else {
					status.Print(streams.Out, r)
				}
			}
			if err != nil {
				return err
			}
			if !r.Healthy {
				return &ExitError{Code: 1, Err: errors.New("platform is not healthy")}
			}
			return nil
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the platform is healthy")
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Minute, "how long --wait waits")
	return cmd
}
