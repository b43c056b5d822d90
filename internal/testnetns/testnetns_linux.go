//go:build linux

package testnetns

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

// marker is set in the environment of the re-executed test binary, so that
// Main re-executes it only once.
const marker = "GEN_TEST_IN_NETNS"

// Main is the body of a package's TestMain. It re-executes the test binary
// in a new network namespace, brings loopback up there, adds each of addrs
// (plain IPv4 addresses, as /32) to it, and runs the tests. The exit code is
// the tests'.
func Main(m *testing.M, addrs ...string) int {
	return MainWith(m, Options{Addresses: addrs})
}

// Options of MainWith.
type Options struct {
	// Addresses are added to loopback (plain IPv4 addresses, as /32).
	Addresses []string
	// Mount gives the test binary a private mount namespace too, for
	// mounts only its processes see (a tmpfs on /dev/shm, a hosts file over
	// /etc/hosts).
	Mount bool
	// Setup runs inside the namespaces before the tests; its cleanup (may
	// be nil) runs after them.
	Setup func() (cleanup func(), err error)
}

// MainWith is Main with mounts and a setup of the package's own.
func MainWith(m *testing.M, o Options) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	if os.Getenv(marker) == "" {
		code, err := reexec(o.Mount)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testnetns: %v\n\nThese tests run in a private network namespace and need "+
				"permission to create one (root, or CAP_SYS_ADMIN without a seccomp profile that forbids unshare).\n"+
				"Run them as root, or run only the unit tests with: go test -short ./...\n", err)
			return 1
		}
		return code
	}
	if err := setup(o.Addresses); err != nil {
		fmt.Fprintf(os.Stderr, "testnetns: set up the private network namespace: %v\n", err)
		return 1
	}
	if o.Setup != nil {
		cleanup, err := o.Setup()
		if cleanup != nil {
			defer cleanup()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "testnetns: set up the private namespace: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

// Active reports whether the test binary runs inside the namespace Main made.
func Active() bool { return os.Getenv(marker) != "" }

func reexec(mount bool) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), marker+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	flags := uintptr(syscall.CLONE_NEWNET)
	if mount {
		flags |= syscall.CLONE_NEWNS
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Unshareflags: flags,
		// If this parent dies (go test's own timeout kills it), the child
		// and, through their own Pdeathsig, its processes die too.
		Pdeathsig: syscall.SIGKILL,
	}
	// Ctrl-C reaches both processes (same process group); forward SIGTERM
	// too, and wait for the child's exit code.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("re-execute the test binary in a new network namespace: %w", err)
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
			fmt.Fprintf(os.Stderr, "testnetns: test binary in the namespace was killed by %v\n", ws.Signal())
			return 1, nil
		}
		return exitErr.ExitCode(), nil
	}
	return 0, err
}

// setup brings up loopback (down in a fresh namespace) and adds addrs.
func setup(addrs []string) error {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip == nil || ip.To4() == nil || ip.IsLoopback() {
			return fmt.Errorf("%q is not a non-loopback IPv4 address", a)
		}
		if out, err := exec.Command("ip", "addr", "add", a+"/32", "dev", "lo").CombinedOutput(); err != nil {
			return fmt.Errorf("ip addr add %s/32 dev lo: %v: %s", a, err, out)
		}
	}
	// Prove that loopback and every address work before a component fails
	// in a stranger way.
	for _, a := range append([]string{"127.0.0.1"}, addrs...) {
		l, err := net.Listen("tcp", net.JoinHostPort(a, "0"))
		if err != nil {
			return fmt.Errorf("listen on %s: %w", a, err)
		}
		c, err := net.Dial("tcp", l.Addr().String())
		l.Close()
		if err != nil {
			return fmt.Errorf("dial %s: %w", a, err)
		}
		c.Close()
	}
	return nil
}
