//go:build unix && !linux

package testproc

import (
	"os"
	"syscall"
)

// sysProcAttr puts each component in its own process group, so stop can
// signal everything it started. Only Linux can tie a child's life to its
// parent (Pdeathsig); elsewhere a killed test binary may leave processes
// behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// maxRSS is not reported in one unit across the other systems (bytes on
// macOS, kilobytes on the BSDs): 0, unknown.
func maxRSS(*os.ProcessState) int64 { return 0 }
