//go:build unix && !linux

package testproc

import "syscall"

// sysProcAttr puts each component in its own process group, so stop can
// signal everything it started. Only Linux can tie a child's life to its
// parent (Pdeathsig); elsewhere a killed test binary may leave processes
// behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
