package bootstrap

import (
	"fmt"
	"io"
	"os"
	"time"
)

// printer writes steps and progress to stderr-like output: "✓ step (1.2s)"
// or "✗ step", plain ASCII marks when NO_COLOR is set or the output is not
// a terminal, nothing at all when quiet.
type printer struct {
	out     io.Writer
	quiet   bool
	verbose bool
	ok, bad string
}

func newPrinter(out io.Writer, quiet, verbose bool) *printer {
	p := &printer{out: out, quiet: quiet, verbose: verbose, ok: "✓", bad: "✗"}
	if os.Getenv("NO_COLOR") != "" {
		p.ok, p.bad = "[ok]", "[fail]"
	}
	return p
}

func (p *printer) step(name string, start time.Time, err error) {
	if p.quiet && err == nil {
		return
	}
	mark := p.ok
	if err != nil {
		mark = p.bad
	}
	fmt.Fprintf(p.out, "%s %s (%s)\n", mark, name, time.Since(start).Round(100*time.Millisecond))
}

// infof is a detail line under the current step.
func (p *printer) infof(format string, args ...any) {
	if !p.quiet {
		fmt.Fprintf(p.out, "  "+format+"\n", args...)
	}
}

// warnf is always shown (unless quiet): something the user should fix.
func (p *printer) warnf(format string, args ...any) {
	if !p.quiet {
		fmt.Fprintf(p.out, "  ! "+format+"\n", args...)
	}
}

// debugf is shown with -v only.
func (p *printer) debugf(format string, args ...any) {
	if p.verbose && !p.quiet {
		fmt.Fprintf(p.out, "    "+format+"\n", args...)
	}
}
