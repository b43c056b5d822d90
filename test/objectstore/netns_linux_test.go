//go:build linux

package objectstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rdspark/gen/internal/testnetns"
)

// podAddr is the address that plays both the pod IP and the Services' cluster
// IP: it is added to the loopback interface of the private network namespace,
// and every rendered Service name resolves to it. 10.43.0.0/16 is k3s's
// default service range; inside the namespace it reaches nothing else.
const podAddr = "10.43.0.10"

// hostsFile is the file bind-mounted over /etc/hosts in the private mount
// namespace; tests rewrite its content (same inode) with setHosts.
var hostsFile string

// Main is the body of TestMain. It re-executes the test binary in a private
// network and mount namespace, where the stores listen on the ports their
// rendered args name without colliding with anything, nothing they open is
// reachable from outside, and the in-cluster names the bucket Jobs' scripts
// use resolve to the store (a hosts file over /etc/hosts), so the scripts run
// verbatim.
//
// If the namespaces cannot be created, Main fails loudly rather than
// skipping (a CI run that silently skips proves nothing). Under -short it
// only runs the tests, which skip themselves.
func Main(m *testing.M) int {
	return testnetns.MainWith(m, testnetns.Options{Addresses: []string{podAddr}, Mount: true, Setup: setupNamespace})
}

// setupNamespace puts a hosts file of the test's own over /etc/hosts, and
// keeps the test's folders out of /tmp: the processes get their /tmp volume
// bind-mounted over /tmp, which would hide the folders of t.TempDir() there.
// The cleanup removes both folders (the bind mount dies with the namespace).
func setupNamespace() (func(), error) {
	dir, err := os.MkdirTemp("", "gen-objectstore-hosts-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	hostsFile = filepath.Join(dir, "hosts")
	if err := writeHosts(nil); err != nil {
		return cleanup, err
	}
	if err := syscall.Mount(hostsFile, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return cleanup, fmt.Errorf("bind-mount %s over /etc/hosts: %w", hostsFile, err)
	}
	tmp, err := os.MkdirTemp("/var/tmp", "gen-objectstore-")
	if err != nil {
		return cleanup, fmt.Errorf("a temporary folder outside /tmp: %w", err)
	}
	os.Setenv("TMPDIR", tmp)
	return func() { os.RemoveAll(tmp); cleanup() }, nil
}

// writeHosts makes names resolve to podAddr (and localhost to loopback),
// and the host name too, as the kubelet's hosts file of a pod maps the pod's
// host name to its IP: a JVM asks for its own address (Spark's
// Utils.findLocalInetAddress) and fails without it.
func writeHosts(names []string) error {
	content := "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
	if host, err := os.Hostname(); err == nil {
		names = append([]string{host}, names...)
	}
	content += podAddr + "\t" + strings.Join(names, " ") + "\n"
	// Same inode: the bind mount over /etc/hosts shows the new content.
	return os.WriteFile(hostsFile, []byte(content), 0o644)
}

// setHosts points names at podAddr for the rest of the test.
func setHosts(t testing.TB, names []string) {
	t.Helper()
	if err := writeHosts(names); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = writeHosts(nil) })
}
