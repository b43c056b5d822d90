//go:build linux

package e2e

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
)

// namespaceMarker is set in the environment of the test binary once it runs
// inside its private namespaces, so TestMain re-executes it only once.
const namespaceMarker = "GEN_E2E_IN_NAMESPACE"

// Main is the body of the package's TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
//
// It re-executes the test binary in a private network and mount namespace and
// runs the tests there. Argo CD's application controller binds its metrics
// listener to 0.0.0.0 with no flag to change that; in a private network
// namespace loopback is the only interface, so nothing is exposed and two
// test runs cannot collide on a port. The private mount namespace gets its own
// /dev/shm, where gitops-engine writes temporary files.
//
// If the namespaces cannot be created (not root, no CAP_SYS_ADMIN, a seccomp
// profile that forbids unshare) Main fails loudly rather than skipping: a CI
// job that silently skips its end-to-end test proves nothing. Under
// `go test -short` it only runs the tests, which then skip themselves.
func Main(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	if os.Getenv(namespaceMarker) == "" {
		code, err := reexecInNamespace()
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n\nThe end-to-end tests run Argo CD in a private network namespace and need "+
				"permission to create one (root, or CAP_SYS_ADMIN without a seccomp profile that forbids unshare).\n"+
				"Run them as root, or run only the unit tests with: go test -short ./...\n", err)
			return 1
		}
		return code
	}
	if err := setupNamespace(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: set up the private namespace: %v\n", err)
		return 1
	}
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
		// With CLONE_NEWNS in Unshareflags the Go runtime also remounts /
		// recursively private in the child, so the tmpfs on /dev/shm
		// (setupNamespace) never propagates back to the host.
		Unshareflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		// If this parent dies (go test's own timeout kills it), the child
		// dies too, and with it everything it started (Pdeathsig again).
		Pdeathsig: syscall.SIGKILL,
	}
	// Ctrl-C reaches both processes (same process group); forward SIGTERM
	// too and let the child decide, while this one waits for its exit code.
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
			fmt.Fprintf(os.Stderr, "e2e: test binary in the namespace was killed by %v\n", ws.Signal())
			return 1, nil
		}
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// setupNamespace prepares the fresh namespaces: a new network namespace has
// only a loopback interface, and it is down.
func setupNamespace() error {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	if err := syscall.Mount("tmpfs", "/dev/shm", "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("mount a private tmpfs on /dev/shm: %w", err)
	}
	// Prove loopback works before a component fails in a stranger way.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen on loopback: %w", err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return fmt.Errorf("dial loopback: %w", err)
	}
	return c.Close()
}

// InPrivateNamespace reports whether the test binary runs inside the
// namespaces Main created.
func InPrivateNamespace() bool { return os.Getenv(namespaceMarker) != "" }
