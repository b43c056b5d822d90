//go:build !linux

package smoke

import "testing"

// On other systems the cluster, MinIO and port-forward tests are not built
// (they carry //go:build linux): this says so once, instead of passing with
// the unit tests alone.
func TestNeedsLinux(t *testing.T) {
	const msg = "bootstrap/smoke's flow tests run on Linux only: they start a real kube-apiserver and etcd " +
		"(hack/controlplane/build.sh), a real MinIO (hack/objectstore/build.sh) and a kubelet stand-in. " +
		"Run them on Linux with make test; here, go test -short ./bootstrap/smoke runs the unit tests"
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
}
