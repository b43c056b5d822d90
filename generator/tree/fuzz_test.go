package tree

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdspark/gen/generator/manifest"
)

var fuzzRoots = []string{"examples", "image", "manifests", "overlays"}

// Bits of FuzzWrite's setup byte: what is on disk before the Write.
const (
	setupPreviousTree    = 1 << iota // a tree gen wrote before
	setupSymlinkDir                  // manifests/link -> a folder outside out
	setupSymlinkRoot                 // overlays -> a folder outside out
	setupUserFile                    // manifests/a.yaml without gen's header
	setupRootIsFile                  // examples is a file
	setupSymlinkFile                 // manifests/secret.yaml -> a file outside out
	setupDanglingSymlink             // image/Dockerfile -> a path that does not exist
)

// FuzzWrite writes two manifests at arbitrary paths (next to a valid one)
// over arbitrary trees with symlinks in them. Whatever the paths: Write never
// panics, never changes anything outside out, leaves out untouched when it
// fails, writes exactly the manifests when it succeeds, and never leaves a
// staging folder. The seeds (testdata/fuzz/FuzzWrite) are the known ways
// out: .., absolute paths, backslashes, symlinked folders, roots and files,
// dangling symlinks, NUL bytes, names too long, a file where a folder goes.
func FuzzWrite(f *testing.F) {
	f.Fuzz(func(t *testing.T, p1, p2 string, setup uint8) {
		parent := t.TempDir()
		out := filepath.Join(parent, "out")
		elsewhere := filepath.Join(parent, "elsewhere")
		must(t, os.MkdirAll(elsewhere, 0o755))
		must(t, os.WriteFile(filepath.Join(parent, "outside.yaml"), []byte("outside\n"), 0o644))
		must(t, os.MkdirAll(out, 0o755))
		if setup&setupPreviousTree != 0 {
			if _, err := Write(out, fuzzRoots, []manifest.Manifest{gen("manifests/keep.yaml", "k\n"), gen("overlays/e/keep.yaml", "k\n"), gen("examples/x.yaml", "x\n")}); err != nil {
				t.Fatal(err)
			}
		}
		if setup&setupSymlinkDir != 0 {
			must(t, os.MkdirAll(filepath.Join(out, "manifests"), 0o755))
			must(t, os.Symlink(elsewhere, filepath.Join(out, "manifests", "link")))
		}
		if setup&setupSymlinkRoot != 0 && !exists(filepath.Join(out, "overlays")) {
			must(t, os.Symlink(elsewhere, filepath.Join(out, "overlays")))
		}
		if setup&setupUserFile != 0 {
			must(t, os.MkdirAll(filepath.Join(out, "manifests"), 0o755))
			must(t, os.WriteFile(filepath.Join(out, "manifests", "a.yaml"), []byte("mine\n"), 0o644))
		}
		if setup&setupRootIsFile != 0 && !exists(filepath.Join(out, "examples")) {
			must(t, os.WriteFile(filepath.Join(out, "examples"), []byte("a file\n"), 0o644))
		}
		if setup&setupSymlinkFile != 0 {
			must(t, os.MkdirAll(filepath.Join(out, "manifests"), 0o755))
			must(t, os.Symlink(filepath.Join(parent, "outside.yaml"), filepath.Join(out, "manifests", "secret.yaml")))
		}
		if setup&setupDanglingSymlink != 0 {
			must(t, os.MkdirAll(filepath.Join(out, "image"), 0o755))
			must(t, os.Symlink(filepath.Join(parent, "created-through-link"), filepath.Join(out, "image", "Dockerfile")))
		}
		outsideBefore := treeSnapshot(t, parent)
		removeUnder(outsideBefore, "out")
		insideBefore := treeSnapshot(t, out)

		ms := []manifest.Manifest{gen("manifests/base.yaml", "base\n"), gen(p1, "one\n"), gen(p2, "two\n")}
		_, err := Write(out, fuzzRoots, ms)

		outsideAfter := treeSnapshot(t, parent)
		removeUnder(outsideAfter, "out")
		if !sameSnapshot(outsideBefore, outsideAfter) {
			t.Fatalf("Write(%q, %q) changed files outside out:\n%s", p1, p2, describeDiff(outsideAfter, outsideBefore))
		}
		if left := stagingLeftovers(t, out); len(left) > 0 {
			t.Fatalf("staging folders left behind: %v", left)
		}
		if err != nil {
			if got := treeSnapshot(t, out); !sameSnapshot(got, insideBefore) {
				t.Fatalf("a failed Write(%q, %q) changed out (%v):\n%s", p1, p2, err, describeDiff(got, insideBefore))
			}
			return
		}
		for _, m := range ms {
			if !manifest.SafePath(m.Path) {
				t.Fatalf("Write accepted the unsafe path %q", m.Path)
			}
			full := filepath.Join(out, filepath.FromSlash(m.Path))
			real, err := filepath.EvalSymlinks(full)
			if err != nil {
				t.Fatalf("%q: %v", m.Path, err)
			}
			if real != full {
				t.Fatalf("%q was written through a symlink to %s", m.Path, real)
			}
			if b, err := os.ReadFile(full); err != nil || string(b) != string(m.Content) {
				t.Fatalf("%q holds %q (%v)", m.Path, b, err)
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// removeUnder drops the entries under folder dir from a snapshot.
func removeUnder(snap map[string]string, dir string) {
	for k := range snap {
		if k == dir || strings.HasPrefix(k, dir+string(filepath.Separator)) {
			delete(snap, k)
		}
	}
}
