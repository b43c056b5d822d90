package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigReferenceIsCurrent: docs/config.md, the config reference the
// README links to, is the output of gen config default, so it can never
// drift from the code.
func TestConfigReferenceIsCurrent(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- BEGIN gen config default -->\n```yaml\n", "```\n<!-- END gen config default -->"
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("docs/config.md lacks the gen config default markers")
	}
	stdout, _, err := runGen(t, "config", "default")
	if err != nil {
		t.Fatal(err)
	}
	if got := s[i+len(begin) : j]; got != stdout {
		t.Error("docs/config.md's config reference differs from `gen config default`; paste its output between the markers")
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "(docs/config.md)") {
		t.Error("README.md does not link docs/config.md")
	}
}

// TestREADMEConfigErrorsAreReal: the errors the README shows for a misspelt
// field and a bad value are what gen render prints for them, line for line.
func TestREADMEConfigErrorsAreReal(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"misspelt field": "  minio:\n    storge: 10Gi\n",
		"bad value":      "  minio:\n    storage: 10Gx\n",
	} {
		dir := t.TempDir()
		t.Chdir(dir)
		if err := os.WriteFile(filepath.Join(dir, "gen.yaml"), []byte(header+body), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut strings.Builder
		if code := run([]string{"render"}, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code == 0 {
			t.Fatalf("%s: gen render succeeded", name)
		}
		for _, line := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
			if !strings.Contains(string(readme), "\n"+line+"\n") {
				t.Errorf("%s: gen render prints %q, which README.md does not show", name, line)
			}
		}
	}
}
