//go:build !linux

package testnode

import "testing"

// On other systems the package is not built (it carries //go:build linux):
// this says so once, instead of a silent "no tests".
func TestNeedsLinux(t *testing.T) {
	const msg = "internal/testnode is built on Linux only, like test/integration and test/e2e that use it; run its tests on Linux with make test"
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
}
