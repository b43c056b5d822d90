package testcluster

import "syscall"

// sysProcAttr puts each component in its own process group, so stop can
// signal everything it started, and asks the kernel to SIGKILL it when the
// test binary dies: t.Cleanup does not run when `go test -timeout` or a
// signal kills the binary, and an orphaned etcd or kube-apiserver would keep
// its ports and eat CPU.
//
// Pdeathsig fires when the thread that forked the child exits, not the whole
// process. The Go runtime only retires threads whose goroutine exited while
// locked with runtime.LockOSThread, which test code does not do around Start.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
