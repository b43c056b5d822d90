package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/bootstrap/doctor"
)

// NewDoctorCommand builds gen doctor.
func NewDoctorCommand(streams Streams) *cobra.Command {
	var flags clusterFlags
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose the platform: each problem with its likely cause and the fix",
		Long: `Check the cluster the way the old make validate and the README's
troubleshooting did: API server and node address, platform namespaces (also
stuck terminating), the Argo CD and Spark Operator CRDs, Argo CD's controller,
the pods of every component (ImagePullBackOff of the Spark image,
CrashLoopBackOff of the History Server on a missing S3A class or log
directory), the Spark Operator webhook certificate, and the Ingresses with
their sslip.io names. Exit status 1 when any check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, env, restCfg, err := flags.resolve(cmd)
			if err != nil {
				return err
			}
			findings, err := doctor.Run(context.Background(), restCfg, doctor.Options{Config: cfg, Environment: env})
			if err != nil {
				return err
			}
			if n := doctor.Print(streams.Out, findings); n > 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("%d checks failed", n)}
			}
			return nil
		},
	}
	flags.register(cmd)
	return cmd
}
