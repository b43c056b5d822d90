//go:build !linux

package sparkoperator

import "testing"

// On other systems the package's tests are not built (they carry
// //go:build linux): this says so once, instead of a silent "no tests".
func TestNeedsLinux(t *testing.T) {
	const msg = "test/sparkoperator runs on Linux only, as root or with user namespaces: it runs the real Spark Operator " +
		"(hack/sparkoperator/build.sh) against a real control plane inside a private network namespace. " +
		"Run it on Linux with make test; here, go test -short ./... runs the unit tests"
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
}
