package tree

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/manifest"
)

var errInjected = errors.New("injected fault")

// faultFS is the real file system, except that it fails the n-th operation
// (1-based) of a Write, or, when persistent, the n-th and every later one
// (a disk that turned read-only or full). A failing WriteFile writes half of
// its content first, like a write that runs out of space.
type faultFS struct {
	n          int
	persistent bool
	ops        []string
}

func (f *faultFS) next(op, path string) error {
	f.ops = append(f.ops, op+" "+path)
	if k := len(f.ops); k == f.n || (f.persistent && k > f.n) {
		return &fs.PathError{Op: op, Path: path, Err: errInjected}
	}
	return nil
}

func (f *faultFS) MkdirTemp(dir, pattern string) (string, error) {
	if err := f.next("mkdirtemp", dir); err != nil {
		return "", err
	}
	return osFS{}.MkdirTemp(dir, pattern)
}

func (f *faultFS) MkdirAll(path string, perm fs.FileMode) error {
	if err := f.next("mkdirall", path); err != nil {
		return err
	}
	return osFS{}.MkdirAll(path, perm)
}

func (f *faultFS) WriteFile(name string, r io.Reader, perm fs.FileMode) error {
	if err := f.next("write", name); err != nil {
		content, _ := io.ReadAll(r)
		if werr := os.WriteFile(name, content[:len(content)/2], perm); werr != nil {
			return werr
		}
		return err
	}
	return osFS{}.WriteFile(name, r, perm)
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if err := f.next("rename", oldpath+" -> "+newpath); err != nil {
		return err
	}
	return osFS{}.Rename(oldpath, newpath)
}

// useFS replaces fsys for the rest of the test.
func useFS(t *testing.T, f fileSystem) {
	t.Helper()
	saved := fsys
	fsys = f
	t.Cleanup(func() { fsys = saved })
}

// treeSnapshot is every file and symlink under dir: relative path -> mode and content.
func treeSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			snap[rel] = "symlink -> " + target
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			snap[rel] = fmt.Sprintf("%v %s", info.Mode().Perm(), b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func sameSnapshot(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// describeDiff names the files in which two snapshots differ.
func describeDiff(got, want map[string]string) string {
	var lines []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			lines = append(lines, "missing "+k)
		} else if g != v {
			lines = append(lines, "differs "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, "extra "+k)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func stagingLeftovers(t *testing.T, out string) []string {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(out, StagingPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return left
}

// faultScenario is an old tree on disk (gen's files plus the user's) and a
// new render to write over it.
type faultScenario struct {
	roots    []string
	old, new []manifest.Manifest
	user     map[string]string // path -> content, written after the old tree (mode 0600)
}

// setUp writes the old tree with the real file system into a new folder.
func (s faultScenario) setUp(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Write(out, s.roots, s.old); err != nil {
		t.Fatal(err)
	}
	for p, content := range s.user {
		full := filepath.Join(out, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// expected returns the snapshots of the old and the new tree, and the number
// of file system operations a fault-free Write makes.
func (s faultScenario) expected(t *testing.T) (old, new map[string]string, n int, ops []string) {
	t.Helper()
	out := s.setUp(t)
	old = treeSnapshot(t, out)
	counter := &faultFS{n: -1}
	useFS(t, counter)
	if _, err := Write(out, s.roots, s.new); err != nil {
		t.Fatal(err)
	}
	fsys = osFS{}
	new = treeSnapshot(t, out)
	if sameSnapshot(old, new) {
		t.Fatal("the scenario's new tree is the old one")
	}
	return old, new, len(counter.ops), counter.ops
}

// synthetic changes every kind of thing at once: files changed, added and
// removed in two roots, a root that appears (image/), a root that empties
// and goes (examples/), and user files in the roots that must survive.
func synthetic() faultScenario {
	return faultScenario{
		roots: []string{"examples", "image", "manifests", "overlays"},
		old: []manifest.Manifest{
			gen("examples/spark-pi.yaml", "pi: 1\n"),
			gen("manifests/a/x.yaml", "x: 1\n"),
			gen("manifests/b/y.yaml", "y: 1\n"),
			gen("overlays/e/z.yaml", "z: 1\n"),
			gen("overlays/e/kustomization.yaml", "k: 1\n"),
		},
		new: []manifest.Manifest{
			gen("image/Dockerfile", "FROM x\n"),
			gen("manifests/a/x.yaml", "x: 2\n"),
			gen("manifests/c/new.yaml", "c: 1\n"),
			gen("overlays/e/z.yaml", "z: 2\n"),
			gen("overlays/e/kustomization.yaml", "k: 1\n"),
			gen("overlays/f/w.yaml", "w: 1\n"),
		},
		user: map[string]string{
			"manifests/b/mine.yaml": "kind: Mine\n",
			"overlays/e/notes.md":   "my notes\n",
		},
	}
}

// realRender is the default config's tree, then a config that changes every
// root (another bucket and Spark version, a second environment).
func realRender(t *testing.T) faultScenario {
	t.Helper()
	cfg := config.Default()
	old, err := generator.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Spec.MinIO.Bucket = "logs"
	cfg.Spec.Spark.Version = "4.0.1"
	cfg.Spec.Environments = append(cfg.Spec.Environments, config.Environment{Name: "cluster", Domain: "spark.example.com"})
	cfg.Complete()
	next, err := generator.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return faultScenario{
		roots: generator.Roots,
		old:   old,
		new:   next,
		user: map[string]string{
			"manifests/minio/my-notes.md":   "mine\n",
			"examples/my-job.yaml":          "kind: SparkApplication\n",
			"overlays/rancher-desktop/x.md": "mine too\n",
		},
	}
}

// TestWriteFaultAtEveryOperation fails each operation of a Write in turn
// (then each one and all after it): the tree on disk must always be exactly
// the old one or exactly the new one, and no staging folder may be left,
// except when the disk refuses even the renames that put the old tree back.
// Then the error says so and names the kept staging folder, which still
// holds every old file: nothing is lost.
func TestWriteFaultAtEveryOperation(t *testing.T) {
	scenarios := map[string]func(t *testing.T) faultScenario{
		"synthetic":   func(*testing.T) faultScenario { return synthetic() },
		"real render": realRender,
	}
	for name, build := range scenarios {
		t.Run(name, func(t *testing.T) {
			s := build(t)
			old, new, total, ops := s.expected(t)
			injected, partial := 0, 0
			for _, persistent := range []bool{false, true} {
				for n := 1; n <= total; n++ {
					// -short: the real render's every rename (where a
					// mix could arise) and every 10th other operation.
					if testing.Short() && name == "real render" && !strings.HasPrefix(ops[n-1], "rename ") && n%10 != 0 {
						continue
					}
					out := s.setUp(t)
					f := &faultFS{n: n, persistent: persistent}
					useFS(t, f)
					_, err := Write(out, s.roots, s.new)
					fsys = osFS{}
					injected++
					what := fmt.Sprintf("fault at operation %d/%d (%s, persistent %v)", n, total, f.ops[n-1], persistent)
					if err == nil {
						t.Fatalf("%s: Write reported success", what)
					}
					if !errors.Is(err, errInjected) {
						t.Errorf("%s: error does not carry the fault: %v", what, err)
					}
					got := treeSnapshot(t, out)
					var p *PartialError
					if errors.As(err, &p) {
						partial++
						checkNothingLost(t, what, out, p, old, got)
						continue
					}
					if !sameSnapshot(got, old) && !sameSnapshot(got, new) {
						t.Errorf("%s: the tree is neither the old nor the new one:\nagainst the old:\n%s", what, describeDiff(got, old))
					}
					if left := stagingLeftovers(t, out); len(left) > 0 {
						t.Errorf("%s: staging folders left behind: %v", what, left)
					}
				}
			}
			t.Logf("%s: %d operations per write, %d faults injected, %d left a mix that the error names (persistent faults during the roll back)", name, total, injected, partial)
		})
	}
}

// checkNothingLost: after a failed roll back, every old file is either in
// place or in the kept staging folder's old-<root>, and the error names it.
func checkNothingLost(t *testing.T, what, out string, p *PartialError, old, got map[string]string) {
	t.Helper()
	if !persistentOnly(what) {
		t.Errorf("%s: a single fault left a mix: %v", what, p)
	}
	if !strings.Contains(p.Error(), p.Staging) || !strings.Contains(p.Error(), "by hand") {
		t.Errorf("%s: the error does not say where the previous tree is: %v", what, p)
	}
	if _, err := os.Stat(p.Staging); err != nil {
		t.Fatalf("%s: the staging folder with the previous tree is gone: %v", what, err)
	}
	kept := treeSnapshot(t, p.Staging)
	for path, content := range old {
		if got[path] == content {
			continue
		}
		root, rest, _ := strings.Cut(path, string(filepath.Separator))
		if kept[filepath.Join("old-"+root, rest)] != content {
			t.Errorf("%s: %s is lost: neither in place nor in %s", what, path, p.Staging)
		}
	}
}

func persistentOnly(what string) bool { return strings.Contains(what, "persistent true") }

// TestSecondRootFailsAfterFirstIsSwapped is the case the roll back exists for:
// manifests/ is already the new one when putting overlays/ in place fails.
func TestSecondRootFailsAfterFirstIsSwapped(t *testing.T) {
	s := synthetic()
	old, _, _, _ := s.expected(t)
	out := s.setUp(t)
	// Find the rename that puts the staged overlays/ in place, in a clean run.
	probe := s.setUp(t)
	counter := &faultFS{n: -1}
	useFS(t, counter)
	if _, err := Write(probe, s.roots, s.new); err != nil {
		t.Fatal(err)
	}
	n, swappedBefore := 0, 0
	for i, op := range counter.ops {
		if strings.HasPrefix(op, "rename ") && strings.HasSuffix(op, string(filepath.Separator)+"overlays") && !strings.Contains(op, "old-overlays") {
			n = i + 1
			break
		}
		if strings.HasPrefix(op, "rename ") && !strings.Contains(op, "old-") {
			swappedBefore++
		}
	}
	if n == 0 || swappedBefore == 0 {
		t.Fatalf("no rename of overlays/ after another root's in %v", counter.ops)
	}
	useFS(t, &faultFS{n: n})
	_, err := Write(out, s.roots, s.new)
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "replace overlays") {
		t.Fatalf("err = %v", err)
	}
	if got := treeSnapshot(t, out); !sameSnapshot(got, old) {
		t.Errorf("%d roots were swapped before overlays/ failed, and the tree is not the old one:\n%s", swappedBefore, describeDiff(got, old))
	}
	if left := stagingLeftovers(t, out); len(left) > 0 {
		t.Errorf("staging folders left behind: %v", left)
	}
}
