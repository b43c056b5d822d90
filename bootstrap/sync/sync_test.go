package sync

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRevisionMatches(t *testing.T) {
	full := "3f2c1ab9d0e4c6a8b7f1e2d3c4b5a69788776655"
	for _, c := range []struct {
		got, want string
		match     bool
	}{
		{full, full, true},
		{full, full[:7], true},
		{full, full[:12], true},
		{full, full[:6], false}, // too short to mean a commit
		{full, "0000000", false},
		{full, "", true},
		{"", "", false}, // never compared yet
		{"", full, false},
	} {
		if got := revisionMatches(c.got, c.want); got != c.match {
			t.Errorf("revisionMatches(%q, %q) = %v, want %v", c.got, c.want, got, c.match)
		}
	}
}

func TestCollectNamesWhatIsNotDone(t *testing.T) {
	rev := "3f2c1ab9d0e4c6a8b7f1e2d3c4b5a69788776655"
	done := unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "minio"},
		"status": map[string]any{
			"sync":           map[string]any{"status": "Synced", "revision": rev},
			"health":         map[string]any{"status": "Healthy"},
			"operationState": map[string]any{"phase": "Succeeded", "message": "successfully synced"},
		},
	}}
	stuck := unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "spark-history"},
		"status": map[string]any{
			"sync":           map[string]any{"status": "OutOfSync", "revision": "0123456789abcdef"},
			"health":         map[string]any{"status": "Progressing"},
			"operationState": map[string]any{"phase": "Running", "message": "waiting for healthy state of apps/Deployment/spark-history"},
			"conditions":     []any{map[string]any{"type": "ComparisonError", "message": "rpc error:\n  connection refused"}},
			"resources": []any{
				map[string]any{"kind": "Deployment", "namespace": "spark-history", "name": "spark-history", "status": "Synced", "health": map[string]any{"status": "Progressing"}},
				map[string]any{"kind": "ConfigMap", "namespace": "spark-history", "name": "spark-history", "status": "Synced", "health": map[string]any{"status": "Healthy"}},
				map[string]any{"kind": "ClusterRole", "name": "x", "status": "OutOfSync"},
			},
		},
	}}
	apps := collect([]string{"spark-platform", "minio", "spark-history"}, []unstructured.Unstructured{stuck, done})
	if len(apps) != 3 {
		t.Fatalf("%d Applications, want 3 in the order asked", len(apps))
	}
	if apps[0].Name != "spark-platform" || apps[0].Sync != "Missing" || apps[0].done("") {
		t.Errorf("a missing Application: %+v", apps[0])
	}
	if !apps[1].done(rev) || !apps[1].done(rev[:7]) || len(apps[1].Why) != 0 {
		t.Errorf("minio should be done at %s with nothing to say: %+v", rev, apps[1])
	}
	if apps[1].done("0123456789abcdef0123456789abcdef01234567") {
		t.Error("minio is done at another commit")
	}
	finishing := apps[1]
	finishing.Operation = "Running"
	if finishing.done(rev) || !strings.Contains(finishing.short(), "sync Running") {
		t.Errorf("Synced and Healthy with its sync still running is not done: %s", finishing.short())
	}
	s := apps[2].String()
	for _, want := range []string{
		"spark-history OutOfSync/Progressing at 0123456789ab",
		"operation Running: waiting for healthy state",
		"ComparisonError: rpc error: connection refused", // on one line
		"ClusterRole/x OutOfSync/",
		"Deployment/spark-history/spark-history Synced/Progressing",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
	if strings.Contains(s, "ConfigMap") {
		t.Errorf("%q names a resource that is Synced and Healthy", s)
	}
}

// TestPushedRevision runs real git: the default revision is the tracked
// branch's head, and a local commit not pushed yet is reported.
func TestPushedRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	dir := t.TempDir()
	bare, work := filepath.Join(dir, "remote.git"), filepath.Join(dir, "work")
	git := func(d string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = d
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t.invalid")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git(dir, "init", "--quiet", "--bare", "--initial-branch=main", bare)
	git(dir, "init", "--quiet", "--initial-branch=main", work)
	git(work, "commit", "--quiet", "--allow-empty", "-m", "one")
	if _, _, _, err := PushedRevision(work); err == nil || !strings.Contains(err.Error(), "--revision") {
		t.Errorf("no tracked branch: err = %v, want one that suggests --revision", err)
	}
	git(work, "remote", "add", "origin", bare)
	git(work, "push", "--quiet", "-u", "origin", "main")
	pushed := git(work, "rev-parse", "HEAD")
	rev, upstream, notPushed, err := PushedRevision(work)
	if err != nil || rev != pushed || upstream != "origin/main" || notPushed {
		t.Errorf("PushedRevision = %q, %q, %v, %v; want %q, origin/main, false, nil", rev, upstream, notPushed, err, pushed)
	}
	git(work, "commit", "--quiet", "--allow-empty", "-m", "two")
	rev, _, notPushed, err = PushedRevision(work)
	if err != nil || rev != pushed || !notPushed {
		t.Errorf("after a local commit: PushedRevision = %q, %v, %v; want the pushed %q, true", rev, notPushed, err, pushed)
	}
	if got := ResolveRevision(work, pushed[:7]); got != pushed {
		t.Errorf("ResolveRevision(%s) = %s, want %s", pushed[:7], got, pushed)
	}
	if got := ResolveRevision(work, "origin/main"); got != pushed {
		t.Errorf("ResolveRevision(origin/main) = %s, want %s", got, pushed)
	}
	if got := ResolveRevision(dir, "abcdef1"); got != "abcdef1" {
		t.Errorf("outside a checkout ResolveRevision = %s, want it unchanged", got)
	}
}
