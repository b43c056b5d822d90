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

// StatusOptions are gen status's flags.
type StatusOptions struct {
	clusterFlags
	Output  string
	Wait    bool
	Timeout time.Duration
}

// NewStatusCommand builds gen status.
func NewStatusCommand(streams Streams) *cobra.Command {
	o := StatusOptions{Output: "text", Timeout: 15 * time.Minute}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the platform is up: Applications, workloads, URLs",
		Long: `One screen that answers "is my platform up?": every Argo CD Application of
the environment with its sync status, health and revision, every platform
workload ready or not (kstatus), the platform pods the scheduler cannot place
(a VM too small for the requests: the scheduler's message and the fix), and
the URLs.

Exit status is 0 when everything is Synced, Healthy and ready, 1 otherwise;
--wait blocks until it is (progress on stderr) or --timeout passes. While it
waits, it asks Argo CD to look again at an Application whose health waits on
a CRD that is already Established: Argo CD does not watch CRDs for their
Applications and would otherwise notice only at its next reconciliation.`,
		Example: `  gen status
  gen status -o json | jq .healthy
  gen status --wait --timeout 15m    # after gen bootstrap`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.explicitContext(cmd)
			return Status(cmd.Context(), o, streams)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "text or json")
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "wait until the platform is healthy")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "how long --wait waits")
	return cmd
}

// Status runs gen status.
func Status(ctx context.Context, o StatusOptions, streams Streams) error {
	if o.Output != "text" && o.Output != "json" {
		return fmt.Errorf("-o: %q is not text or json", o.Output)
	}
	cfg, env, restCfg, err := o.resolve("status")
	if err != nil {
		return err
	}
	var r status.Report
	if o.Wait {
		r, err = status.Wait(ctx, restCfg, cfg, env, o.Timeout, 3*time.Second, streams.ErrOut)
	} else {
		r, err = status.Collect(ctx, restCfg, cfg, env)
	}
	if r.Environment != "" {
		if o.Output == "json" {
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
}
