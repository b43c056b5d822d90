//go:build linux

package objectstore

import (
	"testing"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/minio"
)

// TestMinIO runs the default config's MinIO and its bucket Job for real.
func TestMinIO(t *testing.T) {
	cfg := config.Default()
	if cfg.Spec.ObjectStore.Type != config.ObjectStoreMinIO {
		t.Fatalf("the default object store is %q; this test is about the default config's MinIO", cfg.Spec.ObjectStore.Type)
	}
	testStore(t, cfg, storeCase{
		typ:          config.ObjectStoreMinIO,
		component:    minio.Name,
		endpoint:     minio.Endpoint(),
		binaries:     []string{"minio", "mc", "docker-entrypoint.sh"},
		prefixWriter: "mc pipe",
	})
}
