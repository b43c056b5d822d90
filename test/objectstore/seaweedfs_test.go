//go:build linux

package objectstore

import (
	"testing"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/seaweedfs"
)

// TestSeaweedFS runs SeaweedFS (objectStore.type: seaweedfs) and its bucket
// Job for real.
func TestSeaweedFS(t *testing.T) {
	cfg := config.Default()
	cfg.Spec.ObjectStore.Type = config.ObjectStoreSeaweedFS
	testStore(t, cfg, storeCase{
		typ:          config.ObjectStoreSeaweedFS,
		component:    seaweedfs.Name,
		endpoint:     seaweedfs.Endpoint(),
		binaries:     []string{"weed"},
		prefixWriter: "weed filer.copy",
	})
}
