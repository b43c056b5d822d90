package app

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/cluster"
	"github.com/rdspark/gen/generator/config"
)

// clusterFlags are the connection and config flags every cluster command shares.
type clusterFlags struct {
	ConfigPath string
	Env        string
	Kubeconfig string
	Context    string
	// Explicit is true when --context was given.
	Explicit bool
}

func (f *clusterFlags) register(cmd *cobra.Command) {
	f.Context = cluster.DefaultContext
	fl := cmd.Flags()
	fl.StringVarP(&f.ConfigPath, "config", "c", "", "config file (default: gen.yaml in the current folder, else the built-in defaults)")
	fl.StringVar(&f.Env, "env", "", "environment (overlay) (default: the first in the config)")
	fl.StringVar(&f.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.Context, "context", f.Context, "kubeconfig context; any other than rancher-desktop must be named here")
}

// explicitContext records whether --context was given; call from RunE.
func (f *clusterFlags) explicitContext(cmd *cobra.Command) {
	f.Explicit = cmd.Flags().Changed("context")
}

// resolve loads the config and connects for the gen command named command.
func (f *clusterFlags) resolve(command string) (config.Platform, string, *rest.Config, error) {
	cfg, _, err := loadConfig(f.ConfigPath, ".")
	if err != nil {
		return config.Platform{}, "", nil, err
	}
	env := f.Env
	if env == "" {
		env = cfg.Spec.Environments[0].Name
	}
	if _, ok := cfg.Environment(env); !ok {
		return config.Platform{}, "", nil, fmt.Errorf("unknown environment %q", env)
	}
	restCfg, _, err := cluster.Config(cluster.Options{Kubeconfig: f.Kubeconfig, Context: f.Context, Explicit: f.Explicit, Command: command, Timeout: 15 * time.Second})
	if err != nil {
		return config.Platform{}, "", nil, err
	}
	return cfg, env, restCfg, nil
}
