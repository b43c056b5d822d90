package app

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEConfigReferenceIsCurrent: the README's config reference is the
// output of gen config default, so it can never drift from the code.
func TestREADMEConfigReferenceIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- BEGIN gen config default -->\n```yaml\n", "```\n<!-- END gen config default -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the gen config default markers")
	}
	stdout, _, err := runGen(t, "config", "default")
	if err != nil {
		t.Fatal(err)
	}
	if got := s[i+len(begin) : j]; got != stdout {
		t.Error("README.md's config reference differs from `gen config default`; paste its output between the markers")
	}
}
