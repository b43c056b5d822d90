package image_test

// The Dockerfile is checked with buildkit's own parser and instruction
// decoder (github.com/moby/buildkit/frontend/dockerfile/...), the code that
// docker build and nerdctl build run on it: a test dependency only, chosen
// because a hand-written Dockerfile reader would accept what BuildKit refuses.
// v0.32.2 builds on Go 1.26 and is the newest release that only adds small
// modules (pkg/errors, protobuf, go-digest, image-spec) to go.mod: v0.33 and
// later would raise golang.org/x/net, x/text, go-openapi/swag and logr under
// the shipped binary, for a test.

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/generator/image/spark"
	"github.com/rdspark/gen/generator/manifest"
)

// configFor is the default config with the Spark release of a line (its .0
// release is enough: every release of a line has the line's facts) and,
// optionally, a registry mirror.
func configFor(t *testing.T, version, mirror string) config.Platform {
	t.Helper()
	cfg := config.Default()
	cfg.Spec.Spark.Version = version
	cfg.Spec.Images.RegistryMirror = mirror
	cfg.Complete()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// rendered renders cfg and returns the tree's files by path.
func rendered(t *testing.T, cfg config.Platform) map[string][]byte {
	t.Helper()
	ms, err := generator.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, m := range ms {
		files[m.Path] = m.Content
	}
	return files
}

// parsed is a Dockerfile as BuildKit reads it.
type parsed struct {
	stages   []instructions.Stage
	lints    []string
	warnings []string
}

func parse(t *testing.T, dockerfile []byte) parsed {
	t.Helper()
	var p parsed
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		t.Fatalf("buildkit cannot parse the Dockerfile: %v\n%s", err, dockerfile)
	}
	for _, w := range res.Warnings {
		p.warnings = append(p.warnings, w.Short)
	}
	lint := linter.New(&linter.Config{
		ExperimentalAll: true,
		Warn: func(rule, description, url, msg string, _ []parser.Range) {
			p.lints = append(p.lints, rule+": "+msg)
		},
	})
	p.stages, _, err = instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("buildkit refuses the Dockerfile: %v\n%s", err, dockerfile)
	}
	return p
}

// word expands a Dockerfile word the way BuildKit does (quotes, escapes).
func word(t *testing.T, w string) string {
	t.Helper()
	out, _, err := shell.NewLex('\\').ProcessWord(w, shell.EnvsFromSlice(nil))
	if err != nil {
		t.Fatalf("expand %q: %v", w, err)
	}
	return out
}

var urlPattern = regexp.MustCompile(`https?://[^\s"|;]+`)

// TestDockerfileOfEverySupportedLine parses the rendered Dockerfile of each
// supported Spark line (with and without a registry mirror) with BuildKit and
// checks what it builds: the official image of that release, the line's jars
// from Maven Central each verified against its published SHA-1, nothing else,
// and the non-root spark user.
func TestDockerfileOfEverySupportedLine(t *testing.T) {
	for _, line := range spark.Lines() {
		for _, mirror := range []string{"", "registry.acme.internal/mirror"} {
			version := line.Line + ".0"
			t.Run(version+"/mirror="+mirror, func(t *testing.T) {
				cfg := configFor(t, version, mirror)
				release, err := spark.Lookup(version)
				if err != nil {
					t.Fatal(err)
				}
				hash, err := generator.ImageConfigHash(cfg)
				if err != nil {
					t.Fatal(err)
				}
				dockerfile := rendered(t, cfg)[image.DockerfilePath]
				if !bytes.HasPrefix(dockerfile, []byte(manifest.Header(generator.Version))) {
					t.Fatalf("Dockerfile does not start with gen's header:\n%s", dockerfile)
				}
				p := parse(t, dockerfile)
				if len(p.warnings) > 0 || len(p.lints) > 0 {
					t.Errorf("BuildKit warns about the Dockerfile: %v %v", p.warnings, p.lints)
				}
				if len(p.stages) != 2 {
					t.Fatalf("%d stages, want the download stage and the image", len(p.stages))
				}
				base := release.BaseImage()
				if mirror != "" {
					base = mirror + "/" + base
				}
				download, final := p.stages[0], p.stages[1]
				if download.Name != "jars" || download.BaseName != base || final.BaseName != base {
					t.Errorf("FROM %s AS %s, then FROM %s; want FROM %s for both", download.BaseName, download.Name, final.BaseName, base)
				}
				checkDownload(t, download, release)
				checkImage(t, final, cfg, release, hash)
			})
		}
	}
}

// checkDownload: one RUN, as the base image's user, that fetches every jar of
// the line and its .sha1 from Maven Central and checks one against the other
// before the next step, and fetches nothing else.
func checkDownload(t *testing.T, stage instructions.Stage, release spark.Release) {
	t.Helper()
	if len(stage.Commands) != 1 {
		t.Fatalf("download stage has %d instructions, want one RUN", len(stage.Commands))
	}
	run, ok := stage.Commands[0].(*instructions.RunCommand)
	if !ok || !run.PrependShell || len(run.CmdLine) != 1 {
		t.Fatalf("download stage is %v, want one shell-form RUN", stage.Commands[0])
	}
	script := run.CmdLine[0]
	if !strings.HasPrefix(script, "set -eu;") {
		t.Errorf("the script does not stop at the first failure (set -eu): %s", script)
	}
	wantURLs := map[string]bool{}
	for _, j := range release.Jars {
		wantURLs[j.URL()], wantURLs[j.SHA1URL()] = true, true
		get := strings.Index(script, "-O "+j.FileName()+" "+j.URL()+";")
		sum := strings.Index(script, "-O - "+j.SHA1URL()+" ")
		check := strings.Index(script, `"$sha1  `+j.FileName()+`" | sha1sum --check --strict -`)
		if get < 0 || sum < get || check < sum {
			t.Errorf("%s: want download, then its .sha1, then sha1sum --check, in that order (at %d, %d, %d):\n%s", j.FileName(), get, sum, check, script)
		}
		if !strings.HasPrefix(j.URL(), spark.MavenCentral+"/") {
			t.Errorf("%s is not from Maven Central", j.URL())
		}
	}
	for _, u := range urlPattern.FindAllString(script, -1) {
		if !wantURLs[u] {
			t.Errorf("the script fetches %s, which is not a jar of Spark %s or its checksum", u, release.Line.Line)
		}
	}
	if n := strings.Count(script, "sha1sum --check"); n != len(release.Jars) {
		t.Errorf("%d checksum checks for %d jars", n, len(release.Jars))
	}
}

// checkImage: the final stage only copies the verified jars, labels the image
// and runs as uid 185.
func checkImage(t *testing.T, stage instructions.Stage, cfg config.Platform, release spark.Release, hash string) {
	t.Helper()
	var kinds []string
	for _, c := range stage.Commands {
		kinds = append(kinds, fmt.Sprintf("%T", c))
	}
	want := []string{"*instructions.CopyCommand", "*instructions.LabelCommand", "*instructions.UserCommand"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Fatalf("image stage is %v, want COPY, LABEL, USER only", kinds)
	}
	cp := stage.Commands[0].(*instructions.CopyCommand)
	if cp.From != "jars" || strings.Join(cp.SourcePaths, " ") != image.JarDir+"/" || cp.DestPath != "/opt/spark/jars/" || cp.Chown != "" || cp.Chmod != "" {
		t.Errorf("COPY --from=%s %v %s (chown %q chmod %q), want the jars folder into /opt/spark/jars/ as root-owned read-only files", cp.From, cp.SourcePaths, cp.DestPath, cp.Chown, cp.Chmod)
	}
	labels := map[string]string{}
	for _, kv := range stage.Commands[1].(*instructions.LabelCommand).Labels {
		labels[kv.Key] = word(t, kv.Value)
	}
	wantLabels := map[string]string{
		image.ConfigHashLabel:                  hash,
		"org.opencontainers.image.version":     release.Tag(),
		"org.opencontainers.image.source":      "https://github.com/rdspark/gen",
		"org.opencontainers.image.base.name":   release.BaseImage(),
		"org.opencontainers.image.title":       "spark-s3a",
		"org.opencontainers.image.description": "",
	}
	for k, v := range wantLabels {
		got, ok := labels[k]
		if !ok || (v != "" && got != v) {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	if user := stage.Commands[2].(*instructions.UserCommand).User; user != fmt.Sprintf("%d:%d", spark.UID, spark.UID) {
		t.Errorf("USER %s, want %d:%d (the spark user)", user, spark.UID, spark.UID)
	}
}

// TestTheImageBuiltIsTheImageRun: the reference the Dockerfile announces (and
// make image tags) is the one the History Server and both example
// SparkApplications run, for each line, with and without a mirror.
func TestTheImageBuiltIsTheImageRun(t *testing.T) {
	for _, line := range spark.Lines() {
		for _, mirror := range []string{"", "registry.acme.internal/mirror"} {
			cfg := configFor(t, line.Line+".0", mirror)
			cfg.Spec.Spark.Image = "registry.example.com/team/spark"
			files := rendered(t, cfg)
			ref, err := image.Reference(cfg)
			if err != nil {
				t.Fatal(err)
			}
			wantRef := "registry.example.com/team/spark:" + line.Line + ".0-hadoop" + line.Hadoop
			if mirror != "" {
				wantRef = mirror + "/" + wantRef
			}
			if ref != wantRef {
				t.Errorf("Reference = %s, want %s", ref, wantRef)
			}
			if got := announced(t, files[image.DockerfilePath]); got != ref {
				t.Errorf("the Dockerfile announces %q, the tree runs %q", got, ref)
			}
			var d appsv1.Deployment
			if err := yaml.Unmarshal(stripHeader(files["manifests/spark-history/deployment.yaml"]), &d); err != nil {
				t.Fatal(err)
			}
			if got := d.Spec.Template.Spec.Containers[0].Image; got != ref {
				t.Errorf("History Server runs %s, the Dockerfile builds %s", got, ref)
			}
			if got := *d.Spec.Template.Spec.SecurityContext.RunAsUser; got != spark.UID {
				t.Errorf("History Server runs as uid %d, the image's user is %d", got, spark.UID)
			}
			for _, f := range []string{"examples/spark-pi.yaml", "examples/spark-pi-scheduled.yaml"} {
				var app map[string]any
				if err := yaml.Unmarshal(stripHeader(files[f]), &app); err != nil {
					t.Fatal(err)
				}
				spec := app["spec"].(map[string]any)
				if tmpl, ok := spec["template"].(map[string]any); ok {
					spec = tmpl
				}
				if spec["image"] != ref || spec["sparkVersion"] != line.Line+".0" {
					t.Errorf("%s runs %v (Spark %v), the Dockerfile builds %s", f, spec["image"], spec["sparkVersion"], ref)
				}
				release, _ := spark.Lookup(line.Line + ".0")
				if spec["mainApplicationFile"] != "local://"+release.ExamplesJar() {
					t.Errorf("%s runs %v, not the examples jar of the image", f, spec["mainApplicationFile"])
				}
				for _, role := range []string{"driver", "executor"} {
					pod, _ := spec[role].(map[string]any)
					sc, _ := pod["podSecurityContext"].(map[string]any)
					if uid, _ := sc["runAsUser"].(float64); uid != spark.UID {
						t.Errorf("%s %s runs as uid %v, the image's user is %d", f, role, sc["runAsUser"], spark.UID)
					}
				}
			}
		}
	}
}

func stripHeader(b []byte) []byte {
	_, rest, _ := bytes.Cut(b, []byte("\n"))
	return rest
}

// announced is the reference on the Dockerfile's "# image: " line, read the
// way the Makefile reads it (sed -n 's/^# image: //p').
func announced(t *testing.T, dockerfile []byte) string {
	t.Helper()
	var refs []string
	for _, l := range strings.Split(string(dockerfile), "\n") {
		if ref, ok := strings.CutPrefix(l, image.ReferencePrefix); ok {
			refs = append(refs, ref)
		}
	}
	if len(refs) != 1 {
		t.Fatalf("the Dockerfile has %d %q lines, want one:\n%s", len(refs), image.ReferencePrefix, dockerfile)
	}
	return refs[0]
}

// TestMakefileReadsTheAnnouncedReference keeps the Makefile's sed expression
// and the Dockerfile's line in step.
func TestMakefileReadsTheAnnouncedReference(t *testing.T) {
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if want := `sed -n 's/^` + image.ReferencePrefix + `//p'`; !strings.Contains(string(makefile), want) {
		t.Errorf("the Makefile does not read the image reference with %s", want)
	}
}

// TestChecksumVerificationFailsClosed runs the download stage's script for
// real (sh, wget, cut, sha1sum, as in the base image) against a loopback
// server in the place of Maven Central: the jars pass with their published
// checksums, and a tampered jar, a wrong or missing checksum file each fail
// the build.
func TestChecksumVerificationFailsClosed(t *testing.T) {
	for _, tool := range []string{"sh", "wget", "cut", "sha1sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (the base image has it): %v", tool, err)
		}
	}
	cfg := configFor(t, "4.0.4", "")
	release, _ := spark.Lookup("4.0.4")
	p := parse(t, rendered(t, cfg)[image.DockerfilePath])
	script := p.stages[0].Commands[0].(*instructions.RunCommand).CmdLine[0]

	type artifact struct{ body, sha1 string }
	good := func() map[string]artifact {
		files := map[string]artifact{}
		for _, j := range release.Jars {
			body := "jar " + j.FileName()
			files[j.FileName()] = artifact{body, sha1Hex(t, body)}
		}
		return files
	}
	sdk := release.Jars[1].FileName()
	cases := []struct {
		name   string
		change func(map[string]artifact)
		ok     bool
		// reason is what the failing build says.
		reason string
	}{
		{"published checksums", func(map[string]artifact) {}, true, sdk + ": OK"},
		{"checksum file with the file name after the hash", func(f map[string]artifact) {
			a := f[sdk]
			a.sha1 += "  " + sdk
			f[sdk] = a
		}, true, sdk + ": OK"},
		{"tampered jar", func(f map[string]artifact) {
			a := f[sdk]
			a.body += " with a backdoor"
			f[sdk] = a
		}, false, sdk + ": FAILED"},
		{"wrong checksum", func(f map[string]artifact) {
			a := f[sdk]
			a.sha1 = strings.Repeat("0", 40)
			f[sdk] = a
		}, false, sdk + ": FAILED"},
		{"empty checksum file", func(f map[string]artifact) {
			a := f[sdk]
			a.sha1 = ""
			f[sdk] = a
		}, false, "no properly formatted checksum lines"},
		{"no checksum file", func(f map[string]artifact) {
			a := f[sdk]
			a.sha1 = "404"
			f[sdk] = a
		}, false, "no properly formatted checksum lines"},
		{"no jar", func(f map[string]artifact) { delete(f, sdk) }, false, "404"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := good()
			tc.change(files)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				name := filepath.Base(r.URL.Path)
				if a, ok := files[strings.TrimSuffix(name, ".sha1")]; ok {
					switch {
					case !strings.HasSuffix(name, ".sha1"):
						fmt.Fprint(w, a.body)
						return
					case a.sha1 != "404":
						fmt.Fprintln(w, a.sha1)
						return
					}
				}
				http.NotFound(w, r)
			}))
			defer srv.Close()
			dir := filepath.Join(t.TempDir(), "jars")
			s := strings.ReplaceAll(script, spark.MavenCentral, srv.URL+"/maven2")
			s = strings.ReplaceAll(s, image.JarDir, dir)
			cmd := exec.Command("sh", "-c", s)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "http_proxy=", "https_proxy=", "no_proxy=127.0.0.1")
			out, err := cmd.CombinedOutput()
			if tc.ok && err != nil {
				t.Fatalf("the script failed: %v\n%s", err, out)
			}
			if !tc.ok && err == nil {
				t.Fatalf("the script accepted it:\n%s", out)
			}
			if !strings.Contains(string(out), tc.reason) {
				t.Errorf("the output does not say %q:\n%s", tc.reason, out)
			}
			if tc.ok {
				entries, _ := os.ReadDir(dir)
				var names, want []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				for _, j := range release.Jars {
					want = append(want, j.FileName())
				}
				sort.Strings(want)
				if strings.Join(names, " ") != strings.Join(want, " ") {
					t.Errorf("the jars folder holds %v, want exactly %v", names, want)
				}
			}
		})
	}
}

func sha1Hex(t *testing.T, s string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `printf %s "$0" | sha1sum | cut -c1-40`, s).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func TestSourceURL(t *testing.T) {
	cases := map[string]string{
		"https://github.com/rdspark/gen.git":             "https://github.com/rdspark/gen",
		"https://github.com/rdspark/gen":                 "https://github.com/rdspark/gen",
		"git@github.com:acme/data-platform.git":          "https://github.com/acme/data-platform",
		"ssh://git@git.acme.example:2222/team/spark.git": "https://git.acme.example/team/spark",
		"http://gitea.local:3000/me/platform.git":        "http://gitea.local:3000/me/platform",
		"https://user@github.com/acme/platform.git":      "https://github.com/acme/platform",
	}
	for in, want := range cases {
		if got := image.SourceURL(in); got != want {
			t.Errorf("SourceURL(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestLabelValuesAreQuoted: a value BuildKit would expand or split comes out
// exactly as written.
func TestLabelValuesAreQuoted(t *testing.T) {
	cfg := configFor(t, "4.0.4", "")
	cfg.Spec.Git.RepoURL = `https://example.com/a$HOME/b"c\d.git`
	release, _ := spark.Lookup("4.0.4")
	p := parse(t, []byte("FROM scratch\nLABEL "+strings.Join(image.Labels(cfg, release, "h"), " ")+"\n"))
	for _, kv := range p.stages[0].Commands[0].(*instructions.LabelCommand).Labels {
		if kv.Key == "org.opencontainers.image.source" {
			if got := word(t, kv.Value); got != `https://example.com/a$HOME/b"c\d` {
				t.Errorf("source label reads back as %q", got)
			}
			return
		}
	}
	t.Error("no source label")
}

// TestMakeUpBuildsTheImageWhenMissing runs the Makefile's image-if-missing
// step (a prerequisite of make up) with a stand-in container tool that logs
// its arguments: it builds the announced reference only when the tool says
// the image is not there, and says so without a runtime.
func TestMakeUpBuildsTheImageWhenMissing(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("this test runs make: install it (Debian: apt-get install make; macOS: xcode-select --install)")
	}
	dockerfile, err := os.ReadFile("../../image/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	ref := announced(t, dockerfile)
	dir := t.TempDir()
	tool, log := filepath.Join(dir, "tool"), filepath.Join(dir, "log")
	script := "#!/bin/sh\necho \"$*\" >> " + log + "\ncase \"$1 $2\" in \"image inspect\") exit $FAKE_INSPECT;; esac\nexit 0\n"
	if err := os.WriteFile(tool, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	makeUp := func(imageTool, inspect string) (string, string) {
		t.Helper()
		os.Remove(log)
		cmd := exec.Command("make", "--no-print-directory", "-C", "../..", "image-if-missing", "IMAGE_TOOL="+imageTool)
		cmd.Env = append(os.Environ(), "FAKE_INSPECT="+inspect)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make image-if-missing: %v\n%s", err, out)
		}
		calls, _ := os.ReadFile(log)
		return string(out), string(calls)
	}

	out, calls := makeUp(tool, "0")
	if calls != "image inspect "+ref+"\n" {
		t.Errorf("image there: the tool was called with\n%s\nwant only an inspect of %s (%s)", calls, ref, out)
	}
	out, calls = makeUp(tool, "1")
	if want := "image inspect " + ref + "\nbuild -t " + ref + " image\n"; calls != want {
		t.Errorf("image missing: the tool was called with\n%s\nwant\n%s(%s)", calls, want, out)
	}
	if !strings.Contains(out, "missing: building it") {
		t.Errorf("make up does not say it builds the image:\n%s", out)
	}
	out, _ = makeUp("", "1")
	if !strings.Contains(out, "no container runtime answers") || !strings.Contains(out, "make image") {
		t.Errorf("without a runtime make up does not say what to do:\n%s", out)
	}
}
