package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/bootstrap/smoke"
)

// NewSmokeCommand builds gen smoke.
func NewSmokeCommand(streams Streams) *cobra.Command {
	var (
		flags   clusterFlags
		output  string
		timeout time.Duration
		clean   bool
		keep    bool
		quiet   bool
	)
	cmd := &cobra.Command{
		Use:   "smoke",
		Short: "Run a Spark job through the whole platform and check every step",
		Long: `Check the platform's one flow on the cluster, after gen bootstrap and once
Argo CD has synced (gen status --wait):

  1. submit a uniquely named copy of the SparkPi example (examples/spark-pi.yaml)
     into the first job namespace and follow it: submitted, driver running,
     executors, completed;
  2. find its event log under the History Server's log directory, reading the
     bucket through the S3 API with the in-cluster credentials;
  3. ask the History Server's REST API (/api/v1/applications) whether it lists
     the application;
  4. delete the SparkApplication and its pods (the event log stays, so the
     History Server keeps showing the run, unless --clean).

The object store and the History Server are reached through a port-forward
(as kubectl port-forward does; no other tool is needed). The first state that
does not come is reported with its likely cause and the fix, as gen doctor
does: the Spark image missing on the node (make image), a failed submission
(the operator's message), a failed driver (its termination message and log
tail), a driver or executors that cannot be scheduled (after two minutes
without room: the Rancher Desktop VM's size), no event log, or a History
Server that does not list the run.

Progress goes to stderr, the report to stdout. Exit status 1 when any step fails.`,
		Example: `  gen smoke
  gen smoke --timeout 20m --clean
  gen smoke -o json | jq '.steps[] | select(.severity == "failure")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o: %q is not text or json", output)
			}
			cfg, env, restCfg, err := flags.resolve(cmd)
			if err != nil {
				return err
			}
			o := smoke.Options{Config: cfg, Environment: env, Timeout: timeout, Clean: clean, Keep: keep, Progress: streams.ErrOut}
			if quiet {
				o.Progress = nil
			}
			// Ctrl-C stops following the job; the cleanup still runs.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			r, err := smoke.Run(ctx, restCfg, o)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else {
				smoke.Print(streams.Out, r)
			}
			if f := r.Failed(); f != nil {
				return &ExitError{Code: 1, Err: fmt.Errorf("smoke test failed at %s", f.Check)}
			}
			return nil
		},
	}
	flags.register(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&output, "output", "o", "text", "text or json")
	fl.DurationVar(&timeout, "timeout", 10*time.Minute, "how long the whole run may take (the job, the event log, the History Server)")
	fl.BoolVar(&clean, "clean", false, "also delete the application's event log from the object store")
	fl.BoolVar(&keep, "keep", false, "leave the SparkApplication and its pods in the cluster (to look at a failure)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress on stderr")
	return cmd
}
