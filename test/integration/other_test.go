//go:build !linux

package integration

import "testing"

// On other systems the package's tests are not built (they carry
// //go:build linux): this says so once, instead of a silent "no tests".
func TestNeedsLinux(t *testing.T) {
	const msg = "test/integration runs on Linux only: it starts a real kube-apiserver, etcd and kube-controller-manager " +
		"(hack/controlplane/build.sh) and plays the node with internal/testnode, which is Linux-only. " +
		"Run it on Linux with make test; here, go test -short ./... runs the unit tests"
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
}
