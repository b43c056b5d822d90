//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stopGrace is how long a process gets to exit after SIGTERM before it is
// killed: long enough to flush its log, nothing in a test is worth more.
const stopGrace = 5 * time.Second

// logTailLines is how much of each process log a failing test prints.
const logTailLines = 60

// Process is a local process started for the test. Its output goes to a log
// file (LogPath), whose tail is printed if the test fails.
type Process struct {
	Name    string
	LogPath string

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed

	mu      sync.Mutex
	stopped bool // we asked it to stop; an exit is then expected
}

// StartProcess starts bin with args and env (the whole environment, nothing
// is inherited) in dir, logging to dir/<name>.log. The process is stopped
// when the test ends, and the tail of its log is printed first if the test
// failed; an exit while the test was still running is reported as an error.
func StartProcess(t testing.TB, dir, name, bin string, args, env []string) *Process {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Own process group, so stop reaches whatever the process starts itself
	// (the repo-server runs git and kustomize); SIGKILL from the kernel if
	// the test binary dies, because t.Cleanup does not run on a -timeout
	// panic or a signal and an orphan would keep its ports and eat CPU.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if exited, err := p.Exited(); exited && !p.wasStopped() {
			t.Errorf("%s exited while the test was running (%s)\n%s", name, describeExit(err), p.Tail(logTailLines))
		} else if t.Failed() {
			t.Logf("the test failed; log of %s:\n%s", name, p.Tail(logTailLines))
		}
		p.Stop()
	})
	return p
}

// Pid is the process id (and process group id) of the process.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

func (p *Process) wasStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// Stop sends SIGTERM to the process group, SIGKILL after stopGrace, and
// waits for the process to exit. It is safe to call more than once.
func (p *Process) Stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	pgid := p.cmd.Process.Pid
	if exited, _ := p.Exited(); !exited {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
	}
	// The leader is gone; make sure no child of its group outlives it.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// Tail returns the last n lines of the process log, with a header.
func (p *Process) Tail(n int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)\n", p.LogPath, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "----- %s: last %d lines of %s -----\n", p.Name, len(lines), p.LogPath)
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func describeExit(err error) string {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ProcessState.String()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// baseEnv is the environment of the test binary without the variables that
// would reconfigure a component behind the test's back (a developer's
// KUBECONFIG, ARGOCD_* settings, git configuration).
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "KUBECONFIG" || name == "HOME" || name == "TMPDIR" ||
			strings.HasPrefix(name, "ARGOCD_") || strings.HasPrefix(name, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
