//go:build !linux

package e2e

import "testing"

// On other systems the package's tests are not built (they carry
// //go:build linux): this says so once, instead of a silent "no tests".
func TestNeedsLinux(t *testing.T) {
	const msg = "test/e2e runs on Linux only, as root or with user namespaces: it runs Argo CD against a real control plane " +
		"inside a private network and mount namespace (unshare), with Debian's redis-server and git (hack/argocd/build.sh). " +
		"Run it on Linux with make test; here, go test -short ./... runs the unit tests"
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
}
