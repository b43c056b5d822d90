// Package testnetns runs a test binary inside a private network namespace of
// its own, with loopback up and, on request, extra addresses on it.
//
// Why: some programs a test runs bind every interface (0.0.0.0) with no flag
// to change that, and kube-apiserver refuses loopback addresses as a
// Service's endpoints. Inside a fresh network namespace loopback is the only
// interface, so a listener on 0.0.0.0 is reachable from nowhere else, two
// test runs cannot collide on a port, and an address such as 10.244.0.2 added
// to loopback is a legal endpoint address that leads nowhere but into the
// namespace: nothing the test starts can reach, or be reached from, the
// machine's network.
//
// Usage, in the package's main_test.go:
//
//	func TestMain(m *testing.M) { os.Exit(testnetns.Main(m, "10.244.0.2")) }
//
// MainWith adds a private mount namespace (CLONE_NEWNS) for mounts only the
// test's processes see, and a setup of the package's own; test/e2e (a tmpfs
// on /dev/shm) and test/objectstore (a hosts file over /etc/hosts) use it, so
// every test that needs a namespace goes through this one package.
//
// Main re-executes the test binary with CLONE_NEWNET. It fails loudly
// (rather than skipping) when the namespace cannot be created: a CI job that
// silently skips proves nothing. Under `go test -short` it only runs the
// tests, which are expected to skip themselves.
package testnetns
