package doctor

import (
	"context"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/cluster"
)

type crds struct{ dyn dynamic.Interface }

func crdClient(cfg *rest.Config) (crds, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	return crds{dyn}, err
}

// established reads a CRD's Established condition.
func (c crds) established(ctx context.Context, name string) (bool, error) {
	return cluster.CRDEstablished(ctx, c.dyn, name)
}
