package app

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/manifest"
	"github.com/rdspark/gen/generator/tree"
)

// ConfigFileName is the config gen looks for in the output folder.
const ConfigFileName = "gen.yaml"

// RenderOptions are the flags of gen render.
type RenderOptions struct {
	ConfigPath string
	Out        string
	Check      bool
	Quiet      bool
	// Budget prints each environment's requests per pod against its capacity.
	Budget bool
}

// NewRenderCommand builds gen render.
func NewRenderCommand(streams Streams) *cobra.Command {
	o := RenderOptions{Out: "."}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Render the config into the Git-ready kustomize tree",
		Long: `Render gen.yaml (or the built-in defaults when there is none) into:

  manifests/<component>/       bases: MinIO, Spark Operator, History Server, Argo CD
  overlays/<env>/<component>/  per-environment patches (hosts, storage class, resources)
  overlays/<env>/apps/         the AppProject and one Argo CD Application per component
  overlays/<env>/root/         the root Application that gen bootstrap applies
  examples/                    SparkApplications to try with kubectl apply
  image/Dockerfile             the Spark + S3A image, from the same version pins

Output is deterministic: the same config always renders the same bytes.
Files are replaced atomically; gen removes the files it wrote before that
the config no longer produces and never touches files it did not write
(files without gen's header line). Nothing is written when the config is
invalid.`,
		Example: `  gen render                      # gen.yaml in the current folder, or the defaults
  gen render -c platform.yaml --out ./gitops
  gen render --check              # CI: fail when the committed tree is stale`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return Render(o, streams) },
	}
	cmd.Flags().StringVarP(&o.ConfigPath, "config", "c", "", "config file (default: gen.yaml in --out, else the built-in defaults)")
	cmd.Flags().StringVarP(&o.Out, "out", "o", o.Out, "folder to write manifests/, overlays/, examples/ and image/ into")
	cmd.Flags().BoolVar(&o.Check, "check", false, "write nothing; exit 1 and list the files that differ when the tree is not what the config renders")
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing on success")
	cmd.Flags().BoolVar(&o.Budget, "budget", false, "also print each environment's requests per pod against its capacity (Markdown) on stdout")
	return cmd
}

// Render runs gen render.
func Render(o RenderOptions, streams Streams) error {
	cfg, source, err := loadConfig(o.ConfigPath, o.Out)
	if err != nil {
		return err
	}
	ms, err := generator.Render(cfg)
	if err != nil {
		return fmt.Errorf("render %s: %w", source, err)
	}
	if o.Check {
		diffs, err := tree.Check(o.Out, generator.Roots, ms)
		if err != nil {
			return err
		}
		if len(diffs) == 0 {
			if !o.Quiet {
				fmt.Fprintf(streams.ErrOut, "✓ %d files in %s match %s\n", len(ms), o.Out, source)
			}
			return nil
		}
		for _, d := range diffs {
			fmt.Fprintln(streams.Out, d)
		}
		return &ExitError{Code: 1, Err: fmt.Errorf("%d files in %s differ from what %s renders; run gen render and commit", len(diffs), o.Out, source)}
	}
	result, err := tree.Write(o.Out, generator.Roots, ms)
	if err != nil {
		var partial *tree.PartialError
		if errors.As(err, &partial) {
			return fmt.Errorf("write tree to %s: %w", o.Out, err)
		}
		return fmt.Errorf("write tree to %s (the previous tree is unchanged): %w", o.Out, err)
	}
	if !o.Quiet {
		if result.Changes() == 0 {
			fmt.Fprintf(streams.ErrOut, "✓ %d files in %s already match %s\n", len(ms), o.Out, source)
		} else {
			fmt.Fprintf(streams.ErrOut, "✓ rendered %s into %s: %d files, %d added, %d changed, %d removed\n",
				source, o.Out, len(ms), len(result.Added), len(result.Changed), len(result.Removed))
		}
	}
	return printBudgets(cfg, ms, o, streams)
}

// printBudgets shows what each environment's pods request against its
// capacity (render has already refused a tree that does not fit).
func printBudgets(cfg config.Platform, ms []manifest.Manifest, o RenderOptions, streams Streams) error {
	if o.Quiet && !o.Budget {
		return nil
	}
	cfg.Complete()
	for _, env := range cfg.Spec.Environments {
		b, err := generator.Budget(cfg, ms, env)
		if err != nil {
			return err
		}
		if !o.Quiet {
			fmt.Fprintf(streams.ErrOut, "  budget %s\n", b.Summary())
		}
		if o.Budget {
			fmt.Fprintf(streams.Out, "### %s\n\n%s\n", env.Name, b.Table())
		}
	}
	return nil
}

// loadConfig reads the config at path; with no path, gen.yaml in dir, or the
// built-in defaults when that does not exist. source names what was used.
func loadConfig(path, dir string) (config.Platform, string, error) {
	explicit := path != ""
	if !explicit {
		path = filepath.Join(dir, ConfigFileName)
	}
	data, err := readLimited(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		cfg := config.Default()
		cfg.Complete()
		return cfg, "the built-in defaults", nil
	case err != nil:
		return config.Platform{}, "", fmt.Errorf("read config: %w", err)
	}
	cfg, err := config.Load(path, data)
	if err != nil {
		return config.Platform{}, "", err
	}
	return cfg, path, nil
}

func readLimited(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not a config file", path)
	}
	if info.Size() > config.MaxFileSize {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d a config may have", path, info.Size(), config.MaxFileSize)
	}
	// Read at most one byte past the limit: a path that is a stream
	// (/dev/zero, a FIFO) has no size to check beforehand.
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, config.MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > config.MaxFileSize {
		return nil, fmt.Errorf("%s has more than the %d bytes a config may have", path, config.MaxFileSize)
	}
	if strings.ContainsRune(string(data), '\x00') {
		return nil, fmt.Errorf("%s is not a text file", path)
	}
	return data, nil
}
