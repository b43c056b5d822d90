package tree

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rdspark/gen/generator/manifest"
)

// TestLargeUserFileIsNeverLoaded: a user's big file in a managed root (data
// for the examples, say) is told apart from gen's by its first bytes and
// streamed into the new root, never read into memory. Before, Write read it
// whole twice (to look for the header, then to copy it).
func TestLargeUserFileIsNeverLoaded(t *testing.T) {
	const size = 64 << 20
	out := t.TempDir()
	if _, err := Write(out, roots, []manifest.Manifest{gen("manifests/a.yaml", "a: 1\n")}); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(out, "manifests", "data.parquet")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("PAR1 the end"), size-12); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := Write(out, roots, []manifest.Manifest{gen("manifests/a.yaml", "a: 2\n")}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if alloc > 8<<20 {
		t.Errorf("Write allocated %d MiB next to a %d MiB user file", alloc>>20, size>>20)
	}
	t.Logf("Write next to a %d MiB user file allocated %d KiB", size>>20, alloc>>10)
	info, err := os.Stat(big)
	if err != nil || info.Size() != size {
		t.Fatalf("the user's file did not survive: %v %v", info, err)
	}
	tail := make([]byte, 12)
	g, _ := os.Open(big)
	defer g.Close()
	if _, err := g.ReadAt(tail, size-12); err != nil || string(tail) != "PAR1 the end" {
		t.Errorf("the user's file changed: %q %v", tail, err)
	}
}

// TestHeaderLookalikesAreTheUsers: only the exact header prefix marks a
// file as gen's; a file shorter than the header, or one that merely
// mentions gen, is the user's and is kept.
func TestHeaderLookalikesAreTheUsers(t *testing.T) {
	out := t.TempDir()
	if _, err := Write(out, roots, []manifest.Manifest{gen("manifests/a.yaml", "a\n")}); err != nil {
		t.Fatal(err)
	}
	mine := map[string]string{
		"manifests/empty.yaml":   "",
		"manifests/short.yaml":   "# Gen",
		"manifests/almost.yaml":  manifest.HeaderPrefix, // no space after it
		"manifests/mention.yaml": "# not " + manifest.HeaderPrefix + " at all\n",
	}
	for p, content := range mine {
		os.WriteFile(filepath.Join(out, p), []byte(content), 0o644)
	}
	if _, err := Write(out, roots, []manifest.Manifest{gen("manifests/b.yaml", "b\n")}); err != nil {
		t.Fatal(err)
	}
	for p, content := range mine {
		if b, err := os.ReadFile(filepath.Join(out, p)); err != nil || string(b) != content {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
}
