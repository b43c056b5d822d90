package progress

import (
	"errors"
	"strings"
	"testing"
)

func TestPrinter(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	var b strings.Builder
	p := New(&b, false, false)
	if err := p.Run("apply", func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	err := p.Run("wait", func() error { return errors.New("timed out") })
	if err == nil || err.Error() != "wait: timed out" {
		t.Errorf("error %v, want it wrapped with the step's name", err)
	}
	p.Debugf("hidden without -v")
	out := b.String()
	if !strings.HasPrefix(out, "✓ apply (") || !strings.Contains(out, "\n✗ wait (") || strings.Contains(out, "hidden") {
		t.Errorf("output:\n%s", out)
	}

	t.Setenv("NO_COLOR", "1")
	b.Reset()
	quiet := New(&b, true, false)
	_ = quiet.Run("ok step", func() error { return nil })
	_ = quiet.Run("bad step", func() error { return errors.New("x") })
	if out := b.String(); strings.Contains(out, "ok step") || !strings.HasPrefix(out, "[fail] bad step (") {
		t.Errorf("quiet with NO_COLOR:\n%s", out)
	}
}
