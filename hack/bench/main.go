// Command bench compares gen's in-process render and write of the whole tree
// with `kustomize build` of every component overlay of that tree: what gen
// costs against what the rendered tree then costs its consumer (Argo CD runs
// kustomize build on each Application). The goal is gen/kustomize <= 0.20x.
//
// Usage (from the repository root):
//
//	go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2
//	go run ./hack/bench [-rounds 20]
//
// The overlays reference upstream files by URL, so the program serves the
// shared upstream folder (see internal/upstreamtest) on 127.0.0.1 and points
// the default config at it: no network is used, and kustomize's fetches cost
// a loopback round trip rather than the internet's.
//
// Both sides are measured in the same run, interleaved round by round, so a
// busy or throttled machine slows both alike and the ratio stays meaningful
// even when the absolute times do not.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/tree"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// goal is the target of gen's time as a fraction of kustomize's.
const goal = 0.20

const installHint = "go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2"

func main() {
	rounds := flag.Int("rounds", 20, "measured rounds of each side, interleaved")
	flag.Parse()
	if *rounds < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1")
		os.Exit(2)
	}
	if err := run(*rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(rounds int) error {
	kustomize, err := findKustomize()
	if err != nil {
		return err
	}
	upstream, err := upstreamtest.Dir()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: upstreamtest.Handler(upstream)}
	go srv.Serve(ln)
	defer srv.Close()
	cfg := upstreamtest.ConfigFor(upstreamtest.BaseURLs("http://" + ln.Addr().String()))

	tmp, err := os.MkdirTemp("", "gen-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// The tree kustomize builds, written once; gen's rounds write elsewhere.
	treeDir := filepath.Join(tmp, "tree")
	ms, err := generator.Render(cfg)
	if err != nil {
		return err
	}
	if _, err := tree.Write(treeDir, generator.Roots, ms); err != nil {
		return err
	}
	components, err := generator.Components(cfg)
	if err != nil {
		return err
	}
	var overlays, names []string
	for _, c := range components {
		names = append(names, c.Name)
		overlays = append(overlays, filepath.Join(treeDir, generator.OverlaysDir, config.DefaultEnvironment().Name, c.Name))
	}

	genRound := func(i int) (time.Duration, error) {
		// A fresh folder each round: rewriting an unchanged tree skips the writes.
		out := filepath.Join(tmp, "gen-"+strconv.Itoa(i))
		start := time.Now()
		ms, err := generator.Render(cfg)
		if err == nil {
			_, err = tree.Write(out, generator.Roots, ms)
		}
		d := time.Since(start)
		if rmErr := os.RemoveAll(out); err == nil {
			err = rmErr
		}
		return d, err
	}
	// perOverlay[j] collects overlay j's times: they show which overlays kustomize's time goes to.
	perOverlay := make([][]time.Duration, len(overlays))
	kustomizeRound := func() (time.Duration, error) {
		var total time.Duration
		for j, dir := range overlays {
			start := time.Now()
			if err := kustomizeBuild(kustomize, dir); err != nil {
				return 0, err
			}
			d := time.Since(start)
			perOverlay[j] = append(perOverlay[j], d)
			total += d
		}
		return total, nil
	}

	fmt.Printf("machine:   %s/%s, %d CPUs, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Printf("kustomize: %s (%s)\n", kustomize, kustomizeVersion(kustomize))
	fmt.Printf("tree:      %d files; kustomize builds %d overlays in overlays/%s: %s\n",
		len(ms), len(overlays), config.DefaultEnvironment().Name, strings.Join(names, " "))
	fmt.Printf("rounds:    %d, interleaved, after 1 unmeasured warm-up round of each\n\n", rounds)

	// The warm-up also proves every overlay builds before anything is timed.
	if _, err := genRound(-1); err != nil {
		return err
	}
	if _, err := kustomizeRound(); err != nil {
		return err
	}
	clear(perOverlay)
	var genTimes, kustomizeTimes []time.Duration
	for i := range rounds {
		// Alternate which side goes first, so neither always runs on the
		// caches the other has just warmed.
		sides := []func() error{
			func() error { d, err := genRound(i); genTimes = append(genTimes, d); return err },
			func() error { d, err := kustomizeRound(); kustomizeTimes = append(kustomizeTimes, d); return err },
		}
		if i%2 == 1 {
			slices.Reverse(sides)
		}
		for _, side := range sides {
			if err := side(); err != nil {
				return err
			}
		}
	}

	g, k := median(genTimes), median(kustomizeTimes)
	fmt.Printf("gen render+write (in-process):  median %8s  (min %s, max %s)\n", millis(g), millis(slices.Min(genTimes)), millis(slices.Max(genTimes)))
	fmt.Printf("kustomize build (%d overlays):   median %8s  (min %s, max %s)\n", len(overlays), millis(k), millis(slices.Min(kustomizeTimes)), millis(slices.Max(kustomizeTimes)))
	for j, name := range names {
		fmt.Printf("  %-15s median %8s\n", name, millis(median(perOverlay[j])))
	}
	ratio := float64(g) / float64(k)
	verdict := "met"
	if ratio > goal {
		verdict = "NOT met"
	}
	fmt.Printf("ratio gen/kustomize: %.3fx\n", ratio)
	fmt.Printf("goal: <= %.2fx (%s)\n", goal, verdict)
	return nil
}

// kustomizeBuild builds one overlay, discarding the output; its stderr is
// kept for the error, which is where kustomize says what it could not fetch.
func kustomizeBuild(kustomize, dir string) error {
	var stderr bytes.Buffer
	cmd := exec.Command(kustomize, "build", dir)
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kustomize build %s: %w\n%s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// findKustomize looks on PATH, then where go install puts binaries.
func findKustomize() (string, error) {
	if p, err := exec.LookPath("kustomize"); err == nil {
		return p, nil
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		// One line per variable; GOBIN's is usually empty, so do not trim
		// the output as a whole.
		lines := strings.Split(string(out), "\n")
		if len(lines) >= 2 {
			if gobin := strings.TrimSpace(lines[0]); gobin != "" {
				dirs = append(dirs, gobin)
			}
			// go install uses the first GOPATH entry.
			if gopath := filepath.SplitList(strings.TrimSpace(lines[1])); len(gopath) > 0 && gopath[0] != "" {
				dirs = append(dirs, filepath.Join(gopath[0], "bin"))
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "kustomize")
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("kustomize not found on PATH or in $(go env GOPATH)/bin; install it with: " + installHint)
}

func kustomizeVersion(kustomize string) string {
	out, err := exec.Command(kustomize, "version").Output()
	if err != nil {
		return "version unknown"
	}
	return strings.TrimSpace(string(out))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
}
