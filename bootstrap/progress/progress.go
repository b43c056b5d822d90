// Package progress is the one step printer of gen's commands: "✓ step
// (1.2s)" or "✗ step", with detail lines under it, on the command's stderr.
// The marks are plain ASCII ("[ok]", "[fail]") when NO_COLOR is set; quiet
// prints nothing but failures.
package progress

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Printer writes steps and progress.
type Printer struct {
	out     io.Writer
	quiet   bool
	verbose bool
	ok, bad string
}

// New is a printer on out.
func New(out io.Writer, quiet, verbose bool) *Printer {
	if out == nil {
		out = io.Discard
	}
	p := &Printer{out: out, quiet: quiet, verbose: verbose}
	p.ok, p.bad = Marks()
	return p
}

// Marks are the marks of a step done and failed.
func Marks() (ok, bad string) {
	if os.Getenv("NO_COLOR") != "" {
		return "[ok]", "[fail]"
	}
	return "✓", "✗"
}

// Step reports a finished step and how long it took.
func (p *Printer) Step(name string, start time.Time, err error) {
	if p.quiet && err == nil {
		return
	}
	mark := p.ok
	if err != nil {
		mark = p.bad
	}
	fmt.Fprintf(p.out, "%s %s (%s)\n", mark, name, time.Since(start).Round(100*time.Millisecond))
}

// Run runs one named step, reports it, and wraps its error with the name.
func (p *Printer) Run(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	p.Step(name, start, err)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Infof is a detail line under the current step.
func (p *Printer) Infof(format string, args ...any) {
	if !p.quiet {
		fmt.Fprintf(p.out, "  "+format+"\n", args...)
	}
}

// Warnf is something the user should fix (not shown when quiet).
func (p *Printer) Warnf(format string, args ...any) {
	if !p.quiet {
		fmt.Fprintf(p.out, "  ! "+format+"\n", args...)
	}
}

// Debugf is shown with -v only.
func (p *Printer) Debugf(format string, args ...any) {
	if p.verbose && !p.quiet {
		fmt.Fprintf(p.out, "    "+format+"\n", args...)
	}
}
