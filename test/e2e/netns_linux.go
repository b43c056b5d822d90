//go:build linux

package e2e

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/rdspark/gen/internal/testnetns"
)

// Main is the body of the package's TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
//
// It re-executes the test binary in a private network and mount namespace and
// runs the tests there (internal/testnetns). Argo CD's application controller
// binds its metrics listener to 0.0.0.0 with no flag to change that; in a
// private network namespace loopback is the only interface, so nothing is
// exposed and two test runs cannot collide on a port. The private mount
// namespace gets its own /dev/shm, where gitops-engine writes temporary files.
//
// If the namespaces cannot be created (not root, no CAP_SYS_ADMIN, a seccomp
// profile that forbids unshare) Main fails loudly rather than skipping: a CI
// job that silently skips its end-to-end test proves nothing. Under
// `go test -short` it only runs the tests, which then skip themselves.
func Main(m *testing.M) int {
	return testnetns.MainWith(m, testnetns.Options{Mount: true, Setup: func() (func(), error) {
		if err := syscall.Mount("tmpfs", "/dev/shm", "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=1777"); err != nil {
			return nil, fmt.Errorf("mount a private tmpfs on /dev/shm: %w", err)
		}
		return nil, nil
	}})
}

// InPrivateNamespace reports whether the test binary runs inside the
// namespaces Main created.
func InPrivateNamespace() bool { return testnetns.Active() }
