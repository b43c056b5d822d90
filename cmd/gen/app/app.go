package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/generator"
)

// Streams are where a command reads and writes: data on Out, progress and
// messages on ErrOut.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// ExitError carries a specific exit code (gen render --check uses 1 for "differs").
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Main runs gen with the process's arguments and exits with its status.
func Main() {
	os.Exit(run(os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}

func run(args []string, streams Streams) int {
	err := Run(args, streams)
	if err == nil {
		return 0
	}
	// Printed once, here, and nowhere else.
	fmt.Fprintf(streams.ErrOut, "gen: %v\n", err)
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	return 1
}

// Run executes gen with args (without the program name). Ctrl-C and
// SIGTERM cancel the context every command runs with: a command stops
// between requests, and each is safe to run again.
func Run(args []string, streams Streams) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := NewRootCommand(streams)
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}

// NewRootCommand builds the gen command tree.
func NewRootCommand(streams Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "gen",
		Short: "A local Apache Spark platform on Rancher Desktop, run the GitOps way",
		Long: `gen turns one typed config (gen.yaml) into a Git-ready kustomize tree for
MinIO, the Kubeflow Spark Operator, the Spark History Server and Argo CD, tied
together by an app-of-apps; Argo CD syncs the tree from Git.

  gen render        config -> manifests/ and overlays/ (offline, deterministic)
  git commit && git push
  gen bootstrap     once per laptop: install Argo CD, create Secrets, point it at the tree
  gen smoke         once synced: run SparkPi through it all (job, event log, History Server)

Every later change: edit gen.yaml, gen render, commit, push; gen sync makes
it live now instead of at Argo CD's next poll and waits until it runs.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       generator.Version,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.AddCommand(
		NewInitCommand(streams),
		NewRenderCommand(streams),
		NewConfigCommand(streams),
		NewBootstrapCommand(streams),
		NewStatusCommand(streams),
		NewDoctorCommand(streams),
		NewSmokeCommand(streams),
		NewDiffCommand(streams),
		NewSyncCommand(streams),
		NewTeardownCommand(streams),
		NewVersionCommand(streams),
	)
	return root
}
