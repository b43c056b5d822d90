//go:build unix

// Package testproc runs the local processes tests start (etcd,
// kube-apiserver, Argo CD, redis): output to a log file whose tail a failing
// test can show, an own process group so stopping reaches their children,
// and SIGKILL from the kernel when the test binary dies.
package testproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process gets to exit after SIGTERM before it is
// killed: long enough to flush its log; nothing in a test is worth more.
const stopGrace = 5 * time.Second

// Process is one running process.
type Process struct {
	Name    string
	LogPath string

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed

	mu      sync.Mutex
	stopped bool // we asked it to stop; an exit is then expected
}

// Start starts bin with args and env (the whole environment, nothing is
// inherited) in dir, logging to dir/<name>.log.
func Start(dir, name, bin string, args, env []string) (*Process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Own process group, so Stop reaches whatever the process starts itself;
	// SIGKILL from the kernel if the test binary dies, because t.Cleanup does
	// not run on a -timeout panic or a signal, and an orphan would keep its
	// ports and eat CPU. (Pdeathsig fires when the forking thread exits; the
	// Go runtime only retires threads locked with LockOSThread, which callers
	// do not do around Start.)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id (and process group id).
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

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stopped reports whether Stop was called (an exit is then expected).
func (p *Process) Stopped() bool {
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

// Tail returns the last n lines of the log, with a header line.
func (p *Process) Tail(n int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)\n", p.LogPath, err)
	}
	text := strings.TrimRight(string(data), "\n")
	if text == "" {
		return fmt.Sprintf("----- %s: %s is empty -----\n", p.Name, p.LogPath)
	}
	lines := strings.Split(text, "\n")
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

// DescribeExit turns a wait error into a short description.
func DescribeExit(err error) string {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ProcessState.String()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// MaxRSS is the peak resident set size, in bytes, of the largest process of
// the tree that ran (the process or any child it waited for), once the
// process has exited; 0 before that or where the system does not report it.
// Tests compare it with a container's memory limit.
func (p *Process) MaxRSS() int64 {
	select {
	case <-p.done:
	default:
		return 0
	}
	if p.cmd.ProcessState == nil {
		return 0
	}
	return maxRSS(p.cmd.ProcessState)
}
