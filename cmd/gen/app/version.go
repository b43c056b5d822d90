package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/generator"
)

// NewVersionCommand prints gen's version.
func NewVersionCommand(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print gen's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(streams.Out, generator.Version)
			return err
		},
	}
}
