//go:build linux

package objectstore

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// namespaceMarker is set in the environment of the test binary once it runs
// inside its private namespaces, so Main re-executes it only once.
const namespaceMarker = "GEN_OBJECTSTORE_IN_NAMESPACE"

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
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	if os.Getenv(namespaceMarker) == "" {
		code, err := reexecInNamespace()
		if err != nil {
			fmt.Fprintf(os.Stderr, "objectstore: %v\n\nThese tests run the object stores in a private network and mount namespace and need "+
				"permission to create one (root, or CAP_SYS_ADMIN without a seccomp profile that forbids unshare).\n"+
				"Run them as root, or run only the unit tests with: go test -short ./...\n", err)
			return 1
		}
		return code
	}
	dir, err := setupNamespace()
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "objectstore: set up the private namespace: %v\n", err)
		return 1
	}
	// The processes get their /tmp volume bind-mounted over /tmp, which
	// would hide the folders of t.TempDir() under /tmp from them: keep the
	// test's own folders elsewhere.
	tmp, err := os.MkdirTemp("/var/tmp", "gen-objectstore-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "objectstore: a temporary folder outside /tmp: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	os.Setenv("TMPDIR", tmp)
	return m.Run()
}

// reexecInNamespace runs this test binary again, with the same arguments and
// standard streams, in new network and mount namespaces, and returns its exit
// code.
func reexecInNamespace() (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), namespaceMarker+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// With CLONE_NEWNS the Go runtime also makes / recursively private
		// in the child, so the bind mounts below never reach the host.
		Unshareflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		// If this parent dies (go test's own timeout kills it), the child
		// dies too, and with it everything it started.
		Pdeathsig: syscall.SIGKILL,
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("re-execute the test binary in a new network and mount namespace: %w", err)
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			fmt.Fprintf(os.Stderr, "objectstore: test binary in the namespace was killed by %v\n", ws.Signal())
			return 1, nil
		}
		return exitErr.ExitCode(), nil
	}
	return 0, err
}

// setupNamespace brings up loopback with podAddr on it and puts a hosts file
// of the test's own over /etc/hosts. It returns the folder of that file, for
// the caller to remove at the end (the bind mount dies with the namespace).
func setupNamespace() (string, error) {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return "", fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	if out, err := exec.Command("ip", "addr", "add", podAddr+"/32", "dev", "lo").CombinedOutput(); err != nil {
		return "", fmt.Errorf("ip addr add %s/32 dev lo: %v: %s", podAddr, err, out)
	}
	dir, err := os.MkdirTemp("", "gen-objectstore-hosts-")
	if err != nil {
		return "", err
	}
	hostsFile = filepath.Join(dir, "hosts")
	if err := writeHosts(nil); err != nil {
		return dir, err
	}
	if err := syscall.Mount(hostsFile, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return dir, fmt.Errorf("bind-mount %s over /etc/hosts: %w", hostsFile, err)
	}
	// Prove the address works before a store fails in a stranger way.
	l, err := net.Listen("tcp", podAddr+":0")
	if err != nil {
		return dir, fmt.Errorf("listen on %s: %w", podAddr, err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return dir, fmt.Errorf("dial %s: %w", podAddr, err)
	}
	return dir, c.Close()
}

// writeHosts makes names resolve to podAddr (and localhost to loopback).
func writeHosts(names []string) error {
	content := "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
	if len(names) > 0 {
		content += podAddr + "\t" + strings.Join(names, " ") + "\n"
	}
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
