package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/bootstrap/doctor"
)

// DoctorOptions are gen doctor's flags.
type DoctorOptions struct {
	clusterFlags
}

// NewDoctorCommand builds gen doctor.
func NewDoctorCommand(streams Streams) *cobra.Command {
	var o DoctorOptions
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose the platform: each problem with its likely cause and the fix",
		Long: `Check the cluster the way the old make validate and the README's
troubleshooting did: API server and node address, platform namespaces (also
stuck terminating), the Argo CD and Spark Operator CRDs, Argo CD's controller,
the pods of every component (ImagePullBackOff of the Spark image,
CrashLoopBackOff of the History Server on a missing S3A class or log
directory), the Spark Operator webhook certificate, the Ingresses with
their sslip.io names, and whether the node's CPU and memory hold what the
platform requests. Exit status 1 when any check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.explicitContext(cmd)
			return Doctor(cmd.Context(), o, streams)
		},
	}
	o.register(cmd)
	return cmd
}

// Doctor runs gen doctor.
func Doctor(ctx context.Context, o DoctorOptions, streams Streams) error {
	cfg, env, restCfg, err := o.resolve("doctor")
	if err != nil {
		return err
	}
	findings, err := doctor.Run(ctx, restCfg, doctor.Options{Config: cfg, Environment: env})
	if err != nil {
		return err
	}
	if n := doctor.Print(streams.Out, findings); n > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d checks failed", n)}
	}
	return nil
}
