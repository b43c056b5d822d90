package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMakeRenderBuildsGenOnce runs the Makefile's render target in a copy of
// its layout, with a stand-in go command that logs each build: the first
// make render builds bin/gen, the second reuses it, a changed Go source
// rebuilds it, a changed test file does not.
func TestMakeRenderBuildsGenOnce(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("this test runs make: install it (Debian: apt-get install make; macOS: xcode-select --install)")
	}
	makefile, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	// The stand-in go writes a bin/gen that logs how it was run.
	fakeGo := "#!/bin/sh\necho \"go $*\" >> " + log + "\nmkdir -p bin\nprintf '#!/bin/sh\\necho \"gen $*\" >> " + log + "\\n' > bin/gen\nchmod +x bin/gen\n"
	files := map[string]string{
		"Makefile":                 string(makefile),
		"go.mod":                   "module example\n",
		"go.sum":                   "",
		"cmd/gen/main.go":          "package main\n",
		"generator/render.go":      "package generator\n",
		"generator/render_test.go": "package generator\n",
		"fakego":                   fakeGo,
		"hack/bench/main.go":       "package main\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Sources two hours old; bin/gen is set to one hour old after each build,
	// and a "changed" file gets the current time: no clock skew for make.
	past := time.Now().Add(-2 * time.Hour)
	for name := range files {
		os.Chtimes(filepath.Join(dir, name), past, past)
	}
	render := func() string {
		t.Helper()
		os.Remove(log)
		cmd := exec.Command("make", "--no-print-directory", "render", "GO="+filepath.Join(dir, "fakego"))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make render: %v\n%s", err, out)
		}
		hourAgo := time.Now().Add(-time.Hour)
		os.Chtimes(filepath.Join(dir, "bin", "gen"), hourAgo, hourAgo)
		calls, _ := os.ReadFile(log)
		// The log first, each line starting a line; make's echo after it.
		return "\n" + string(calls) + "\n(make said:\n" + strings.ReplaceAll(string(out), "\n", "\n  ") + ")"
	}
	builds := func(calls string) int { return strings.Count(calls, "\ngo build") }

	first := render()
	if builds(first) != 1 || !strings.Contains(first, "gen render") || !strings.Contains(first, "a few minutes") {
		t.Errorf("first make render: want one build announced as taking a few minutes, then gen render:\n%s", first)
	}
	if again := render(); builds(again) != 0 || !strings.Contains(again, "gen render") {
		t.Errorf("second make render rebuilt bin/gen:\n%s", again)
	}
	now := time.Now()
	os.Chtimes(filepath.Join(dir, "generator/render_test.go"), now, now)
	if calls := render(); builds(calls) != 0 {
		t.Errorf("a changed test file rebuilt bin/gen:\n%s", calls)
	}
	os.Chtimes(filepath.Join(dir, "generator/render.go"), now, now)
	if calls := render(); builds(calls) != 1 || strings.Contains(calls, "a few minutes") {
		t.Errorf("a changed source: want one quiet rebuild:\n%s", calls)
	}
}
