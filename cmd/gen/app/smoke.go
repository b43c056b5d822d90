package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/bootstrap/smoke"
)

// SmokeOptions are gen smoke's flags.
type SmokeOptions struct {
	clusterFlags
	Output  string
	Timeout time.Duration
	Clean   bool
	Keep    bool
	Quiet   bool
}

// NewSmokeCommand builds gen smoke.
func NewSmokeCommand(streams Streams) *cobra.Command {
	o := SmokeOptions{Output: "text", Timeout: 10 * time.Minute}
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
			o.explicitContext(cmd)
			return Smoke(cmd.Context(), o, streams)
		},
	}
	o.register(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&o.Output, "output", "o", o.Output, "text or json")
	fl.DurationVar(&o.Timeout, "timeout", o.Timeout, "how long the whole run may take (the job, the event log, the History Server)")
	fl.BoolVar(&o.Clean, "clean", false, "also delete the application's event log from the object store")
	fl.BoolVar(&o.Keep, "keep", false, "leave the SparkApplication and its pods in the cluster (to look at a failure)")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress on stderr")
	return cmd
}

// Smoke runs gen smoke. Ctrl-C (the command's context) stops following the
// job; the cleanup still runs.
func Smoke(ctx context.Context, o SmokeOptions, streams Streams) error {
	if o.Output != "text" && o.Output != "json" {
		return fmt.Errorf("-o: %q is not text or json", o.Output)
	}
	cfg, env, restCfg, err := o.resolve("smoke")
	if err != nil {
		return err
	}
	so := smoke.Options{Config: cfg, Environment: env, Timeout: o.Timeout, Clean: o.Clean, Keep: o.Keep, Progress: streams.ErrOut}
	if o.Quiet {
		so.Progress = nil
	}
	r, err := smoke.Run(ctx, restCfg, so)
	if err != nil {
		return err
	}
	if o.Output == "json" {
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
}
