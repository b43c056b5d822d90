package tree

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdspark/gen/generator/manifest"
)

var roots = []string{"manifests", "overlays"}

func gen(p, body string) manifest.Manifest {
	return manifest.Manifest{Path: p, Content: []byte(manifest.Header("v0") + body)}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteKeepsUserFilesAndRemovesStaleOnes(t *testing.T) {
	out := t.TempDir()
	first := []manifest.Manifest{gen("manifests/a/x.yaml", "x: 1\n"), gen("manifests/b/y.yaml", "y: 1\n"), gen("overlays/e/z.yaml", "z: 1\n")}
	r, err := Write(out, roots, first)
	if err != nil || len(r.Added) != 3 {
		t.Fatalf("first write: %+v %v", r, err)
	}
	user := filepath.Join(out, "manifests", "b", "mine.yaml")
	os.WriteFile(user, []byte("kind: Mine\n"), 0o600)
	outside := filepath.Join(out, "README.md")
	os.WriteFile(outside, []byte("hi\n"), 0o644)

	second := []manifest.Manifest{gen("manifests/a/x.yaml", "x: 2\n"), gen("overlays/e/z.yaml", "z: 1\n")}
	r, err = Write(out, roots, second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.Changed, ",") != "manifests/a/x.yaml" || strings.Join(r.Removed, ",") != "manifests/b/y.yaml" || r.Unchanged != 1 {
		t.Errorf("result = %+v", r)
	}
	if got := read(t, filepath.Join(out, "manifests/a/x.yaml")); !strings.HasSuffix(got, "x: 2\n") {
		t.Errorf("x.yaml = %q", got)
	}
	if _, err := os.Stat(filepath.Join(out, "manifests/b/y.yaml")); !os.IsNotExist(err) {
		t.Error("stale gen file was kept")
	}
	if read(t, user) != "kind: Mine\n" || read(t, outside) != "hi\n" {
		t.Error("a user file was changed")
	}
	if info, _ := os.Stat(user); info.Mode().Perm() != 0o600 {
		t.Errorf("user file mode changed to %v", info.Mode().Perm())
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, StagingPrefix+"*"))
	if len(leftovers) > 0 {
		t.Errorf("staging folders left behind: %v", leftovers)
	}
}

func TestUnchangedWriteTouchesNothing(t *testing.T) {
	out := t.TempDir()
	ms := []manifest.Manifest{gen("manifests/a/x.yaml", "x: 1\n"), gen("overlays/e/z.yaml", "z: 1\n")}
	if _, err := Write(out, roots, ms); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(filepath.Join(out, "manifests"))
	r, err := Write(out, roots, ms)
	if err != nil || r.Changes() != 0 || r.Unchanged != 2 {
		t.Fatalf("%+v %v", r, err)
	}
	after, _ := os.Stat(filepath.Join(out, "manifests"))
	if !os.SameFile(before, after) {
		t.Error("an unchanged write replaced the folder")
	}
}

func TestOnlyChangedRootsAreReplaced(t *testing.T) {
	out := t.TempDir()
	ms := []manifest.Manifest{gen("manifests/a/x.yaml", "x: 1\n"), gen("overlays/e/z.yaml", "z: 1\n")}
	if _, err := Write(out, roots, ms); err != nil {
		t.Fatal(err)
	}
	overlays, _ := os.Stat(filepath.Join(out, "overlays"))
	ms[0] = gen("manifests/a/x.yaml", "x: 2\n")
	if _, err := Write(out, roots, ms); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(out, "overlays"))
	if !os.SameFile(overlays, after) {
		t.Error("an unchanged root was replaced")
	}
}

func TestUnsafePathsAreRefusedBeforeAnyWrite(t *testing.T) {
	for _, p := range []string{"../escape.yaml", "/etc/passwd", "manifests/../../x.yaml", "manifests/./a.yaml", "elsewhere/a.yaml", "manifests", `manifests\a.yaml`, ""} {
		out := t.TempDir()
		_, err := Write(out, roots, []manifest.Manifest{gen("manifests/ok.yaml", "ok\n"), gen(p, "bad\n")})
		if err == nil {
			t.Errorf("Write accepted %q", p)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("Write(%q) wrote %d entries before failing", p, len(entries))
		}
	}
}

func TestDuplicatePathIsRefused(t *testing.T) {
	_, err := Write(t.TempDir(), roots, []manifest.Manifest{gen("manifests/a.yaml", "1\n"), gen("manifests/a.yaml", "2\n")})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("err = %v", err)
	}
}

func TestSymlinksAreRefused(t *testing.T) {
	elsewhere := t.TempDir()

	t.Run("root is a symlink", func(t *testing.T) {
		out := t.TempDir()
		os.Symlink(elsewhere, filepath.Join(out, "manifests"))
		if _, err := Write(out, roots, []manifest.Manifest{gen("manifests/a.yaml", "1\n")}); err == nil || !strings.Contains(err.Error(), "not a folder") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("symlink inside a root", func(t *testing.T) {
		out := t.TempDir()
		os.MkdirAll(filepath.Join(out, "manifests"), 0o755)
		os.Symlink(elsewhere, filepath.Join(out, "manifests", "minio"))
		if _, err := Write(out, roots, []manifest.Manifest{gen("manifests/minio/a.yaml", "1\n")}); err == nil || !strings.Contains(err.Error(), "symlink") {
			t.Fatalf("err = %v", err)
		}
	})
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("gen wrote through a symlink: %v", entries)
	}
}

func TestCheckReportsEveryKindOfDifference(t *testing.T) {
	out := t.TempDir()
	ms := []manifest.Manifest{gen("manifests/a.yaml", "a\n"), gen("manifests/b.yaml", "b\n")}
	if _, err := Write(out, roots, ms); err != nil {
		t.Fatal(err)
	}
	if d, err := Check(out, roots, ms); err != nil || len(d) != 0 {
		t.Fatalf("fresh tree differs: %v %v", d, err)
	}
	want := []manifest.Manifest{gen("manifests/a.yaml", "A\n"), gen("overlays/c.yaml", "c\n")}
	d, err := Check(out, roots, want)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, x := range d {
		got = append(got, x.String())
	}
	if strings.Join(got, "|") != "changed: manifests/a.yaml|stale: manifests/b.yaml|missing: overlays/c.yaml" {
		t.Errorf("Check = %v", got)
	}
}

func TestEmptiedRootIsRemoved(t *testing.T) {
	out := t.TempDir()
	if _, err := Write(out, roots, []manifest.Manifest{gen("manifests/a.yaml", "a\n"), gen("overlays/b.yaml", "b\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(out, roots, []manifest.Manifest{gen("manifests/a.yaml", "a\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "overlays")); !os.IsNotExist(err) {
		t.Error("an empty overlays/ was left behind")
	}
}

func TestUserFileAtARenderedPathIsNeverOverwritten(t *testing.T) {
	out := t.TempDir()
	mine := filepath.Join(out, "manifests", "a.yaml")
	os.MkdirAll(filepath.Dir(mine), 0o755)
	os.WriteFile(mine, []byte("FROM my-own-base\n"), 0o644)
	ms := []manifest.Manifest{gen("manifests/a.yaml", "a\n"), gen("manifests/b.yaml", "b\n")}
	if _, err := Write(out, roots, ms); err == nil || !strings.Contains(err.Error(), "manifests/a.yaml") {
		t.Fatalf("Write over a user file: %v", err)
	}
	if _, err := Check(out, roots, ms); err == nil {
		t.Error("Check does not report the conflict")
	}
	if read(t, mine) != "FROM my-own-base\n" {
		t.Error("the user's file was changed")
	}
	if _, err := os.Stat(filepath.Join(out, "manifests", "b.yaml")); !os.IsNotExist(err) {
		t.Error("a refused write still wrote other files")
	}
}
