//go:build linux

package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/rdspark/gen/internal/testproc"
)

// logTailLines is how much of each process log a failing test prints.
const logTailLines = 60

// Process is a local process started for the test (see internal/testproc).
type Process = testproc.Process

// StartProcess starts bin with args and env (the whole environment, nothing
// is inherited) in dir, logging to dir/<name>.log. The process is stopped
// when the test ends, and the tail of its log is printed first if the test
// failed; an exit while the test was still running is reported as an error.
func StartProcess(t testing.TB, dir, name, bin string, args, env []string) *Process {
	t.Helper()
	p, err := testproc.Start(dir, name, bin, args, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exited, err := p.Exited(); exited && !p.Stopped() {
			t.Errorf("%s exited while the test was running (%s)\n%s", name, testproc.DescribeExit(err), p.Tail(logTailLines))
		} else if t.Failed() {
			t.Logf("the test failed; log of %s:\n%s", name, p.Tail(logTailLines))
		}
		p.Stop()
	})
	return p
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
