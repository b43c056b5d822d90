//go:build linux

package e2e

import (
	"bytes"
	"io/fs"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// GitServer serves bare Git repositories over plain HTTP on 127.0.0.1, the
// smart protocol through `git http-backend` behind net/http/cgi: fetch for
// Argo CD's repo-server, push for the test.
type GitServer struct {
	// URL is the server's base URL, like http://127.0.0.1:43210.
	URL string
	// Root holds the bare repositories (GIT_PROJECT_ROOT).
	Root string

	git string
	env []string
}

// StartGitServer starts a Git server for the test; it is closed when the
// test ends.
func StartGitServer(t testing.TB) *GitServer {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git not found: %v\nInstall it (Debian package git) with: hack/argocd/build.sh", err)
	}
	s := &GitServer{Root: t.TempDir(), git: git}
	// Git run by the test must not read the developer's or the machine's
	// configuration (signing, hooks, a different default branch...).
	home := t.TempDir()
	s.env = append(baseEnv(),
		"HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=gen e2e", "GIT_AUTHOR_EMAIL=e2e@gen.invalid",
		"GIT_COMMITTER_NAME=gen e2e", "GIT_COMMITTER_EMAIL=e2e@gen.invalid",
	)
	h := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Dir:  s.Root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.Root,
			// Serve every repository under the root, no
			// git-daemon-export-ok marker files needed.
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
			"HOME=" + home,
		},
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// GitRepo is a bare repository on a GitServer and a working clone of it.
type GitRepo struct {
	// URL is what Argo CD and `git clone` use, like
	// http://127.0.0.1:43210/platform.git.
	URL string
	// Branch is the repository's only branch, "main".
	Branch string
	// WorkDir is a clone whose origin is URL, on Branch. Tests may write
	// into it and call CommitAll, or use CommitDir.
	WorkDir string

	server *GitServer
}

// NewRepo creates an empty bare repository named name (URL path
// /<name>.git) with receive-pack enabled, and a working clone of it.
func (s *GitServer) NewRepo(t testing.TB, name string) *GitRepo {
	t.Helper()
	bare := filepath.Join(s.Root, name+".git")
	s.Git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", bare)
	// http-backend refuses pushes from unauthenticated clients unless the
	// repository says otherwise.
	s.Git(t, bare, "config", "http.receivepack", "true")
	r := &GitRepo{URL: s.URL + "/" + name + ".git", Branch: "main", WorkDir: t.TempDir(), server: s}
	s.Git(t, r.WorkDir, "init", "--quiet", "--initial-branch=main")
	s.Git(t, r.WorkDir, "remote", "add", "origin", r.URL)
	return r
}

// Git runs git with args in dir (the working directory; "" for the server
// root) under the test's isolated Git environment and returns its trimmed
// standard output. It fails the test on error.
func (s *GitServer) Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	if dir == "" {
		dir = s.Root
	}
	cmd := exec.Command(s.git, args...)
	cmd.Dir = dir
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s (in %s): %v\n%s%s", strings.Join(args, " "), dir, err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// CommitAll commits everything in WorkDir (additions, changes, deletions)
// and pushes it to the server. It returns the new commit's SHA, which is
// what Argo CD reports as the synced revision. An empty commit is made when
// nothing changed, so every call yields a new revision.
func (r *GitRepo) CommitAll(t testing.TB, message string) string {
	t.Helper()
	r.server.Git(t, r.WorkDir, "add", "--all")
	r.server.Git(t, r.WorkDir, "commit", "--quiet", "--allow-empty", "-m", message)
	// -u: the work tree's branch tracks the server's, as in a user's clone,
	// so @{upstream} (gen sync's default revision) is the pushed commit.
	r.server.Git(t, r.WorkDir, "push", "--quiet", "-u", "origin", "HEAD:refs/heads/"+r.Branch)
	return r.server.Git(t, r.WorkDir, "rev-parse", "HEAD")
}

// CommitDir makes the repository's tree under path (relative, "" or "." for
// the whole repository) a copy of the folder src, then commits and pushes
// like CommitAll. Files under path that are not in src are deleted.
func (r *GitRepo) CommitDir(t testing.TB, src, path, message string) string {
	t.Helper()
	dst := filepath.Join(r.WorkDir, filepath.FromSlash(path))
	if filepath.Clean(dst) == filepath.Clean(r.WorkDir) {
		// Keep .git; remove everything else.
		entries, err := os.ReadDir(r.WorkDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != ".git" {
				if err := os.RemoveAll(filepath.Join(r.WorkDir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
	} else if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	if err := copyDir(src, dst); err != nil {
		t.Fatalf("copy %s into the Git working copy: %v", src, err)
	}
	return r.CommitAll(t, message)
}

// Head is the SHA of the branch on the server.
func (r *GitRepo) Head(t testing.TB) string {
	t.Helper()
	out := r.server.Git(t, r.WorkDir, "ls-remote", "origin", "refs/heads/"+r.Branch)
	sha, _, _ := strings.Cut(out, "\t")
	return sha
}

// copyDir copies the regular files and directories of src into dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
