//go:build linux

package smoke

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// TestProgressSpinsOnlyOnATerminal: a spinner line on a terminal, replaced
// by the next step; nothing but the step lines anywhere else.
func TestProgressSpinsOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.waiting(StepDriverRunning, time.Now())
	p.step(ok(StepDriverRunning, time.Now()))
	if got := buf.String(); strings.ContainsAny(got, "\r\033") || !strings.HasSuffix(got, "driver running (0.0s)\n") {
		t.Errorf("not a terminal: %q", got)
	}

	master, tty := openPTY(t)
	p = newProgress(tty)
	p.waiting(StepDriverRunning, time.Now())
	p.step(ok(StepDriverRunning, time.Now()))
	tty.Close()
	// Read everything written (several writes), until the closed
	// terminal's end reports an error.
	master.SetReadDeadline(time.Now().Add(5 * time.Second))
	var all []byte
	for {
		chunk := make([]byte, 4096)
		n, err := master.Read(chunk)
		all = append(all, chunk[:n]...)
		if err != nil {
			break
		}
	}
	got := string(all)
	if !strings.Contains(got, "waiting for driver running") || !strings.Contains(got, "\r\033[K") {
		t.Errorf("terminal: %q", got)
	}
}
