//go:build !linux

package objectstore

import "testing"

// On other systems the package's tests are not built (they carry
// //go:build linux): this says so once, instead of a silent "no tests".
func TestNeedsLinux(t *testing.T) {
	const msg = "test/objectstore runs on Linux only, as root or with user namespaces: it runs MinIO and SeaweedFS " +
		"(hack/objectstore/build.sh) as local processes in their own network and mount namespaces. " +
		"Run it on Linux with make test; here, go test -short ./... runs the unit tests"
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
}
