package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/generator/config"
)

// NewConfigCommand groups the config subcommands.
func NewConfigCommand(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show and check gen's configuration",
	}
	cmd.AddCommand(newConfigDefaultCommand(streams), newConfigValidateCommand(streams))
	return cmd
}

func newConfigDefaultCommand(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "default",
		Short: "Print the full default config, one comment per field",
		Long: `Print the built-in configuration that gen render uses when there is no
gen.yaml, with a one-line description of every field. Start a config with

  gen config default > gen.yaml

and keep only the fields you change.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			out, err := config.DefaultYAML()
			if err != nil {
				return err
			}
			_, err = streams.Out.Write(out)
			return err
		},
	}
}

func newConfigValidateCommand(streams Streams) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a config file and report every problem with its field and line",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, source, err := loadConfig(path, ".")
			if err != nil {
				return err
			}
			_ = cfg
			fmt.Fprintf(streams.ErrOut, "✓ %s is valid\n", source)
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (default: gen.yaml in the current folder)")
	return cmd
}
