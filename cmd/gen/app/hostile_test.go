package app

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostileSetup renders the default tree into dir/tree and puts bait next to
// it: a file and a folder outside --out that a write escaping it would touch.
func hostileSetup(t *testing.T) (dir, out string) {
	t.Helper()
	dir = t.TempDir()
	out = filepath.Join(dir, "tree")
	if _, _, err := runGen(t, "render", "--out", out, "-q"); err != nil {
		t.Fatalf("render defaults: %v", err)
	}
	if err := os.WriteFile(filepath.Join(out, "manifests", "minio", "my-notes.md"), []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "outside.yaml"), []byte("outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "elsewhere"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, out
}

// A config that renders differently from the defaults, so that a render
// with it has something to write.
const changedConfig = header + "  minio:\n    bucket: other-bucket\n"

// TestHostileConfigsChangeNothing renders the default tree, then runs gen
// render with each hostile config over it: a clear error, quickly, and the
// tree and everything around it byte-for-byte as before.
func TestHostileConfigsChangeNothing(t *testing.T) {
	laughs := header + "  git:\n    revision: &a0 lol\nx:\n"
	for i := 1; i <= 9; i++ {
		laughs += fmt.Sprintf("  x%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", i-1), 10), ","))
	}
	bomb := header + "  git:\n    revision: &s " + strings.Repeat("x", 500<<10) + "\npad: [" + strings.Repeat("0,", 100000) + "0]\nbomb: [" + strings.Repeat("*s,", 1000) + "*s]\n"

	cases := []struct {
		name, content string
		path          string // instead of a file with content
		want          []string
	}{
		{name: "billion laughs", content: laughs, want: []string{"aliases expand"}},
		{name: "byte bomb", content: bomb, want: []string{"aliases expand"}},
		{name: "deep nesting", content: strings.Repeat("[", 50000) + strings.Repeat("]", 50000), want: []string{"depth"}},
		{name: "huge file", content: header + "# " + strings.Repeat("x", 2<<20) + "\n", want: []string{"more than the 1048576"}},
		{name: "endless stream", path: "/dev/zero", want: []string{"/dev/zero", "more than the 1048576"}},
		{name: "a folder", path: ".", want: []string{"is a folder"}},
		{name: "non-UTF-8", content: header + "  minio:\n    bucket: \xff\xfe\n", want: []string{"UTF-8"}},
		{name: "UTF-16", content: "\xff\xfea\x00p\x00i\x00V\x00", want: []string{"not a text file"}},
		{name: "binary", content: "\x7fELF\x02\x01\x01\x00\x00\x00", want: []string{"not a text file"}},
		{name: "duplicate key", content: header + "  minio:\n    bucket: a\n    bucket: b\n", want: []string{"line 6", `"bucket" already`}},
		{name: "second document", content: header + "  minio:\n    bucket: a\n---\nkind: Other\n", want: []string{"second YAML document"}},
		{name: "environment name escaping", content: header + "  environments:\n  - name: ../../escape\n    domain: a.example.com\n", want: []string{"spec.environments[0].name"}},
		{name: "job namespace escaping", content: header + "  sparkOperator:\n    jobNamespaces: [../../../escape]\n", want: []string{"spec.sparkOperator.jobNamespaces[0]"}},
		{name: "absolute environment name", content: header + "  environments:\n  - name: /etc\n    domain: a.example.com\n", want: []string{"spec.environments[0].name"}},
		{name: "repository path escaping", content: header + "  git:\n    path: ../../..\n", want: []string{"spec.git.path"}},
	}
	dir, out := hostileSetup(t)
	before := lsnapshot(t, dir)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.path
			if cfg == "" {
				cfg = filepath.Join(t.TempDir(), "gen.yaml")
				if err := os.WriteFile(cfg, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if cfg == "." {
				cfg = t.TempDir()
			}
			start := time.Now()
			_, _, err := runGen(t, "render", "-c", cfg, "--out", out)
			took := time.Since(start)
			if err == nil {
				t.Fatal("render accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%.400s", w, err)
				}
			}
			if took > 5*time.Second {
				t.Errorf("took %s", took)
			}
			if after := lsnapshot(t, dir); !equalMaps(before, after) {
				t.Error("a refused render changed files")
			}
		})
	}
}

// TestHostileTreesChangeNothing puts something in the tree that could lead
// a write outside --out, or over a file gen does not own, then renders a
// changed config over it: a clear error, and nothing changed, inside --out
// or beside it.
func TestHostileTreesChangeNothing(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir, out string)
		want  []string
	}{
		{"root is a symlink", func(t *testing.T, dir, out string) {
			replaceWithSymlink(t, filepath.Join(out, "manifests"), filepath.Join(dir, "elsewhere"))
		}, []string{"manifests", "not a folder"}},
		{"folder in a root is a symlink", func(t *testing.T, dir, out string) {
			replaceWithSymlink(t, filepath.Join(out, "overlays", "rancher-desktop", "minio"), filepath.Join(dir, "elsewhere"))
		}, []string{"overlays/rancher-desktop/minio is a symlink"}},
		{"rendered file is a symlink out", func(t *testing.T, dir, out string) {
			replaceWithSymlink(t, filepath.Join(out, "manifests", "minio", "deployment.yaml"), filepath.Join(dir, "outside.yaml"))
		}, []string{"manifests/minio/deployment.yaml is a symlink"}},
		{"dangling symlink where a file goes", func(t *testing.T, dir, out string) {
			replaceWithSymlink(t, filepath.Join(out, "image", "Dockerfile"), filepath.Join(dir, "created-through-the-link"))
		}, []string{"image/Dockerfile is a symlink"}},
		{"root is a file", func(t *testing.T, dir, out string) {
			os.RemoveAll(filepath.Join(out, "examples"))
			os.WriteFile(filepath.Join(out, "examples"), []byte("a file\n"), 0o644)
		}, []string{"examples is not a folder"}},
		{"user file at a rendered path", func(t *testing.T, dir, out string) {
			os.WriteFile(filepath.Join(out, "manifests", "minio", "deployment.yaml"), []byte("kind: Mine\n"), 0o644)
		}, []string{"refusing to overwrite manifests/minio/deployment.yaml", "not written by gen"}},
		{"FIFO in a root", func(t *testing.T, dir, out string) {
			if err := syscall.Mkfifo(filepath.Join(out, "manifests", "pipe"), 0o644); err != nil {
				t.Skip(err)
			}
		}, []string{"manifests/pipe is not a regular file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, out := hostileSetup(t)
			tc.setup(t, dir, out)
			before := lsnapshot(t, dir)
			cfg := filepath.Join(t.TempDir(), "gen.yaml")
			os.WriteFile(cfg, []byte(changedConfig), 0o644)
			_, _, err := runGen(t, "render", "-c", cfg, "--out", out)
			if err == nil {
				t.Fatal("render wrote over it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if after := lsnapshot(t, dir); !equalMaps(before, after) {
				t.Error("a refused render changed files")
			}
			if _, err := os.Lstat(filepath.Join(dir, "created-through-the-link")); err == nil {
				t.Error("render created a file through a symlink")
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, "elsewhere")); len(entries) != 0 {
				t.Errorf("render wrote through a symlink: %v", entries)
			}
		})
	}

	t.Run("--out is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "tree")
		os.WriteFile(file, []byte("a file\n"), 0o644)
		_, _, err := runGen(t, "render", "--out", file)
		if err == nil {
			t.Fatal("render into a file")
		}
		if b, _ := os.ReadFile(file); string(b) != "a file\n" {
			t.Error("the file was changed")
		}
	})
}

// lsnapshot is every entry under dir (path -> mode and content, or the
// target of a symlink), without following symlinks or opening anything but
// regular files.
func lsnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			files[p] = "symlink " + target
			return err
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			files[p] = fmt.Sprintf("%v %s", info.Mode(), b)
			return err
		default:
			files[p] = info.Mode().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func replaceWithSymlink(t *testing.T, path, target string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}
