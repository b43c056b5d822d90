package smoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/doctor"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
)

// Step names, in the order the flow reaches them.
const (
	StepSubmitted     = "submitted"
	StepDriverRunning = "driver running"
	StepExecutors     = "executors"
	StepCompleted     = "completed"
	StepEventLog      = "event log"
	StepHistory       = "History Server"
	StepCleanup       = "cleanup"
)

// Options of a smoke run.
type Options struct {
	Config      config.Platform
	Environment string
	// Timeout bounds the whole run; Run stops following the application
	// when it passes and reports the first state that did not come.
	Timeout time.Duration
	// Clean also deletes the application's event log from the object store.
	Clean bool
	// Keep leaves the SparkApplication and its pods in the cluster (to look
	// at them after a failure).
	Keep bool
	// Name of the SparkApplication; empty means spark-pi-smoke-<random>.
	Name string
	// Endpoints reaches the object store and the History Server; nil means a
	// port-forward through the API server.
	Endpoints Endpoints
	// Progress receives one line per step as it passes or fails; nil for none.
	Progress io.Writer
	// Poll is how often the application and its pods are read (default 1s).
	Poll time.Duration
	// EventLogWait and HistoryWait bound how long the event log may take to
	// appear after completion (S3A renames the .inprogress file) and how long
	// the History Server may take to list it (it scans every
	// spark.history.fs.update.interval, 10 s by default). Defaults 30s and 90s.
	EventLogWait, HistoryWait time.Duration
	// Unschedulable is how long a driver or executor pod may stay
	// unschedulable for lack of CPU or memory before the run gives up on
	// it (default 2m): on a laptop nothing frees the room by itself.
	Unschedulable time.Duration
}

// Step is one step of the flow: a doctor.Finding (the check, and for a
// failure the problem, likely cause and fix) with the time it took since the
// application was submitted.
type Step struct {
	// Name is the step (StepSubmitted ...), for scripts; Check says more.
	Name string `json:"step"`
	doctor.Finding
	// Seconds: for the job's milestones, since the submission; for the
	// other steps, how long the step took.
	Seconds float64 `json:"seconds"`
}

// steps are the step names, for stepName.
var steps = []string{StepSubmitted, StepDriverRunning, StepExecutors, StepCompleted, StepEventLog, StepHistory, StepCleanup}

// stepName is the step a check (a step name and details) belongs to.
func stepName(check string) string {
	for _, s := range steps {
		if check == s || strings.HasPrefix(check, s+" ") {
			return s
		}
	}
	return check
}

// URL is one UI of the platform.
type URL struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Report is the whole run, for a screen or for scripts (-o json).
type Report struct {
	Passed        bool   `json:"passed"`
	Namespace     string `json:"namespace"`
	Application   string `json:"application"`
	ApplicationID string `json:"applicationID,omitempty"`
	// EventLog is the s3a:// URL of the event log found.
	EventLog string `json:"eventLog,omitempty"`
	Steps    []Step `json:"steps"`
	URLs     []URL  `json:"urls"`
}

// Failed is the first failed step, or nil.
func (r Report) Failed() *Step {
	for i := range r.Steps {
		if r.Steps[i].Severity == doctor.Failure {
			return &r.Steps[i]
		}
	}
	return nil
}

// Print writes the report for a screen: the steps as gen doctor prints its
// findings, then the UIs. It returns the number of failed steps.
func Print(w io.Writer, r Report) int {
	findings := make([]doctor.Finding, len(r.Steps))
	for i, s := range r.Steps {
		findings[i] = s.Finding
	}
	n := doctor.Print(w, findings)
	if r.ApplicationID != "" {
		fmt.Fprintf(w, "application %s/%s (%s)\n", r.Namespace, r.Application, r.ApplicationID)
	}
	if r.EventLog != "" {
		fmt.Fprintf(w, "event log %s\n", r.EventLog)
	}
	for _, u := range r.URLs {
		fmt.Fprintf(w, "%-22s %s\n", u.Name, u.URL)
	}
	return n
}

// Run runs the whole flow against the cluster of restCfg. A failed step is
// in the report (Passed false), not an error; the error is for what keeps
// the run from starting (an unknown environment, an invalid config).
func Run(ctx context.Context, restCfg *rest.Config, o Options) (r Report, err error) {
	cfg := o.Config
	cfg.Complete()
	env, ok := cfg.Environment(o.Environment)
	if !ok {
		return Report{}, fmt.Errorf("unknown environment %q", o.Environment)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Name == "" {
		o.Name = UniqueName()
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return Report{}, err
	}
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return Report{}, err
	}
	if o.Endpoints == nil {
		o.Endpoints = &PortForward{Config: restCfg, Client: cs}
	}
	app, err := Application(cfg, o.Name)
	if err != nil {
		return Report{}, err
	}
	r = Report{Namespace: app.Namespace, Application: app.Name}
	for _, e := range generator.Entrypoints(cfg, env) {
		r.URLs = append(r.URLs, URL{e.Name, e.URL})
	}
	p := newProgress(o.Progress)
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	job := &Job{Client: cs, Dynamic: dyn, Config: cfg, App: app, Poll: o.Poll, Unschedulable: o.Unschedulable}
	defer func() {
		// Cleanup runs on a context of its own: the run's may have expired.
		if o.Keep {
			return
		}
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer ccancel()
		r.add(p, job.Delete(cctx))
	}()

	steps, appID := job.Follow(ctx, p)
	r.Steps = append(r.Steps, steps...)
	r.ApplicationID = appID
	if r.Failed() != nil {
		return r, nil
	}
	store := &EventLogs{Endpoints: o.Endpoints, Client: cs, Config: cfg, Namespace: app.Namespace, Wait: o.EventLogWait}
	step, key := store.Check(ctx, appID)
	r.add(p, step)
	r.EventLog = key
	if step.Severity != doctor.Failure {
		h := &History{Endpoints: o.Endpoints, Wait: o.HistoryWait}
		r.add(p, h.Check(ctx, appID))
	}
	if o.Clean && key != "" {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer ccancel()
		r.add(p, store.Delete(cctx, appID))
	}
	return r, nil
}

func (r *Report) add(p *progress, s Step) {
	p.step(s)
	r.Steps = append(r.Steps, s)
	r.Passed = r.Failed() == nil
}

// UniqueName is spark-pi-smoke-<6 random hex digits>: unique enough that two
// runs (or a run and a leftover of one) never share a name, and short
// enough for the driver pod's and Service's names.
func UniqueName() string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; a clock suffix
		// is unique enough if it ever does.
		return fmt.Sprintf("spark-pi-smoke-%06x", time.Now().UnixNano()&0xffffff)
	}
	return "spark-pi-smoke-" + hex.EncodeToString(b)
}

// progress writes a step as it passes or fails: "✓ submitted (1.2s)", plain
// marks with NO_COLOR; on a terminal, a spinner line names the state being
// waited for, and is overwritten by the next step.
type progress struct {
	out     io.Writer
	ok, bad string
	tty     bool
	frame   int
	spun    bool
}

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, ok: "✓", bad: "✗"}
	if os.Getenv("NO_COLOR") != "" {
		p.ok, p.bad = "[ok]", "[fail]"
	}
	if f, isFile := out.(*os.File); isFile {
		p.tty = term.IsTerminal(int(f.Fd()))
	}
	return p
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// waiting shows, on a terminal only, what the run waits for.
func (p *progress) waiting(what string, since time.Time) {
	if p.out == nil || !p.tty {
		return
	}
	p.frame = (p.frame + 1) % len(spinner)
	fmt.Fprintf(p.out, "\r%s waiting for %s (%s)\033[K", spinner[p.frame], what, time.Since(since).Round(time.Second))
	p.spun = true
}

func (p *progress) step(s Step) {
	if p.out == nil {
		return
	}
	if p.spun {
		fmt.Fprint(p.out, "\r\033[K")
		p.spun = false
	}
	mark := p.ok
	switch s.Severity {
	case doctor.Failure:
		mark = p.bad
	case doctor.Warning:
		mark = "!"
	}
	fmt.Fprintf(p.out, "%s %s (%.1fs)\n", mark, s.Check, s.Seconds)
}

func ok(check string, since time.Time) Step {
	return Step{Name: stepName(check), Finding: doctor.Finding{Check: check, Severity: doctor.OK}, Seconds: seconds(since)}
}

func fail(check string, since time.Time, problem, cause, fix string) Step {
	return Step{Name: stepName(check), Finding: doctor.Finding{Check: check, Severity: doctor.Failure, Problem: problem, Cause: cause, Fix: fix}, Seconds: seconds(since)}
}

func seconds(since time.Time) float64 {
	return time.Since(since).Round(100 * time.Millisecond).Seconds()
}

// errTimeout marks a wait that ran out of time.
var errTimeout = errors.New("timed out")
