package app

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap"
	"github.com/rdspark/gen/generator/config"
)

// clusterFlags are the connection and config flags every cluster command shares.
type clusterFlags struct {
	ConfigPath string
	Env        string
	Kubeconfig string
	Context    string
	explicit   bool
}

func (f *clusterFlags) register(cmd *cobra.Command) {
	f.Context = bootstrap.DefaultContext
	fl := cmd.Flags()
	fl.StringVarP(&f.ConfigPath, "config", "c", "", "config file (default: gen.yaml in the current folder, else the built-in defaults)")
	fl.StringVar(&f.Env, "env", "", "environment (overlay) (default: the first in the config)")
	fl.StringVar(&f.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.Context, "context", f.Context, "kubeconfig context; any other than rancher-desktop must be named here")
}

// resolve loads the config and connects; call from RunE.
func (f *clusterFlags) resolve(cmd *cobra.Command) (config.Platform, string, *rest.Config, error) {
	f.explicit = cmd.Flags().Changed("context")
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
	restCfg, _, err := bootstrap.Connect(f.Kubeconfig, f.Context, f.explicit, 15*time.Second)
	if err != nil {
		return config.Platform{}, "", nil, err
	}
	return cfg, env, restCfg, nil
}
