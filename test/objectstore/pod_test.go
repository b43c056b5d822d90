//go:build linux

package objectstore

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/rdspark/gen/bootstrap"
	"github.com/rdspark/gen/bootstrap/kustomize"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcache"
	"github.com/rdspark/gen/internal/testproc"
	"github.com/rdspark/gen/internal/testtree"
)

// buildCommand is what a developer runs when a binary is missing.
const buildCommand = "hack/objectstore/build.sh (or make objectstore)"

// binDir is where hack/objectstore/build.sh puts minio, mc, weed and MinIO's
// docker-entrypoint.sh.
func binDir(t testing.TB) string {
	t.Helper()
	return testcache.Dir("objectstore", "bin")
}

// requireBinaries skips under -short and fails, naming the build command,
// when a binary is missing: a CI run that skips the real stores proves nothing.
func requireBinaries(t *testing.T, names ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real object stores; skipped under -short")
	}
	dir := binDir(t)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("%v: build the object stores with %s", err, buildCommand)
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Fatalf("%s is missing (%v): build it with %s", filepath.Join(dir, n), err, buildCommand)
		}
	}
	return dir
}

// image is what a container gets from its image rather than from the pod
// spec. Each value is a fact of the image's build file, cited where an image
// is declared.
type image struct {
	entrypoint, cmd []string
	env             []string
	// workingDir is the image's WORKDIR (a path inside the container).
	workingDir string
	// roots are the image's top folders that this machine lacks (/opt of
	// the Spark image): each is a fresh tmpfs in the process's mount
	// namespace, holding only files, and mount points, the image has.
	roots []string
	// files are the image's content under those roots: host path -> path
	// in the image, bind-mounted read-only (an image layer), and, for a
	// folder the image lets its user write (writable), a fresh copy of the
	// test's that is writable unless the root filesystem is read-only.
	files []imageFile
}

// imageFile is one file or folder of an image's content.
type imageFile struct {
	host, path string
	writable   bool
}

// store is the rendered object store: its Deployment, bucket Job and
// Services, as kustomize builds them from the environment's overlay.
type store struct {
	cfg        config.Platform
	deployment *appsv1.Deployment
	job        *batchv1.Job
	services   []*corev1.Service
}

// renderStore renders cfg like `gen render`, builds the object store's
// overlay folder of the first environment with kustomize (what Argo CD
// applies), and returns its Deployment, Job and Services.
func renderStore(t testing.TB, cfg config.Platform, component string) store {
	t.Helper()
	cfg.Complete() // as Render does, so the test reads the values it renders
	out := testtree.Write(t, cfg)
	env := cfg.Spec.Environments[0].Name
	objs, err := kustomize.BuildFS(filesys.MakeFsOnDisk(), filepath.Join(out, generator.OverlaysDir, env, component))
	if err != nil {
		t.Fatalf("kustomize build overlays/%s/%s: %v", env, component, err)
	}
	s := store{cfg: cfg}
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment":
			if s.deployment != nil {
				t.Fatalf("overlays/%s/%s has two Deployments", env, component)
			}
			s.deployment = new(appsv1.Deployment)
			convert(t, o, s.deployment)
		case "Job":
			if s.job != nil {
				t.Fatalf("overlays/%s/%s has two Jobs", env, component)
			}
			s.job = new(batchv1.Job)
			convert(t, o, s.job)
		case "Service":
			svc := new(corev1.Service)
			convert(t, o, svc)
			s.services = append(s.services, svc)
		}
	}
	if s.deployment == nil || s.job == nil || len(s.services) == 0 {
		t.Fatalf("overlays/%s/%s lacks a Deployment, a Job or a Service", env, component)
	}
	return s
}

func convert(t testing.TB, o *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, into, true); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
}

// only returns the single container of a pod template.
func only(t testing.TB, what string, spec corev1.PodSpec) corev1.Container {
	t.Helper()
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("%s: want exactly one container, got %d (+%d init): this test runs one process per pod", what, len(spec.Containers), len(spec.InitContainers))
	}
	return spec.Containers[0]
}

// newCredentials returns the Secrets the store's pods read, as gen bootstrap
// creates them: name -> key -> value.
func newCredentials(t testing.TB, cfg config.Platform) map[string]map[string]string {
	t.Helper()
	data, err := bootstrap.NewObjectStoreCredentials()
	if err != nil {
		t.Fatal(err)
	}
	secret := map[string]string{}
	for k, v := range data {
		secret[k] = string(v)
	}
	return map[string]map[string]string{cfg.Spec.MinIO.CredentialsSecret: secret}
}

// serviceNames returns the cluster DNS names of the rendered Services (the
// names pods use: name.namespace.svc.cluster.local and its shorter forms),
// and fails when a Service port differs from the container port it targets:
// nothing translates ports here, as kube-proxy would.
func serviceNames(t testing.TB, s store) []string {
	t.Helper()
	c := only(t, "Deployment "+s.deployment.Name, s.deployment.Spec.Template.Spec)
	var names []string
	for _, svc := range s.services {
		ns := svc.Namespace
		names = append(names, svc.Name+"."+ns+".svc.cluster.local", svc.Name+"."+ns+".svc", svc.Name+"."+ns)
		for _, p := range svc.Spec.Ports {
			target := p.TargetPort.IntValue()
			if p.TargetPort.StrVal != "" {
				target = int(containerPort(t, c, p.TargetPort.StrVal))
			}
			if target == 0 {
				target = int(p.Port)
			}
			if target != int(p.Port) {
				t.Fatalf("Service %s/%s port %d targets container port %d: this test has no kube-proxy to translate it", ns, svc.Name, p.Port, target)
			}
		}
	}
	return names
}

// containerPort resolves a named port of c.
func containerPort(t testing.TB, c corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port named %q", c.Name, name)
	return 0
}

// process is a container turned into a local process.
type process struct {
	name string
	argv []string
	env  []string
	dir  string // working directory (the launcher changes to it)
	// logDir holds the process's log, <name>.log, in the test's folder.
	logDir string
	// mounts are made in the process's own mount namespace before it
	// starts, in order.
	mounts []mount
	// readOnlyRoot remounts / read-only in that namespace (the volumes stay
	// writable: each is a mount of its own).
	readOnlyRoot bool
	// uid, gid and groups the process runs as (setpriv), with no
	// capabilities and no_new_privs; nil user: as the test (root).
	user *user
	// runsToCompletion is set for a Job's container, whose exit is expected.
	runsToCompletion bool
}

type user struct{ uid, gid, fsGroup int64 }

// mount is one mount of a process's namespace: a bind mount of src at dst
// (kind "rw", or "ro" read-only), or a new tmpfs at dst (kind "tmpfs", src
// unused). The launcher creates dst when it is missing; toProcess names such
// a dst only under a tmpfs of the image's roots, never on this machine.
type mount struct{ kind, src, dst string }

// imageBin is where the build cache's binaries appear inside a process's
// mount namespace (the image's /usr/bin). A bind mount, so that a non-root
// user reaches them although the cache lives under root's home.
const imageBin = "/usr/local/bin"

// toProcess turns container c of a pod into a local process, the way a
// kubelet and container runtime would start it, with:
//   - argv by Kubernetes' rules (command replaces ENTRYPOINT and, alone,
//     drops CMD; args replace CMD), an /usr/bin/<x> of the image found in bin;
//   - env: the image's, then the container's, secretKeyRefs resolved in
//     secrets, PATH with the image's binaries first;
//   - every volume mount a new folder under root, group-owned by fsGroup:
//     bind-mounted at its path when that path is a folder on this machine
//     (/tmp), else the path is rewritten where it appears in args, env and
//     working directory;
//   - the pod's and container's security context: runAsUser, runAsGroup,
//     fsGroup, readOnlyRootFilesystem, all capabilities dropped.
func toProcess(t testing.TB, pod corev1.PodSpec, c corev1.Container, img image, bin, root string, secrets map[string]map[string]string) process {
	t.Helper()
	p := process{name: c.Name}
	p.user, p.readOnlyRoot = securityOf(t, pod, c)
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	openPath(t, root)

	// bin appears at imageBin.
	p.mounts = append(p.mounts, mount{"ro", bin, imageBin})
	// The image's own folders, then its content in them.
	for _, r := range img.roots {
		p.mounts = append(p.mounts, mount{"tmpfs", "", r})
	}
	for _, f := range img.files {
		kind, src := "ro", f.host
		if f.writable {
			src = filepath.Join(root, "image", strings.ReplaceAll(strings.Trim(f.path, "/"), "/", "_"))
			if err := os.MkdirAll(src, 0o775); err != nil {
				t.Fatal(err)
			}
			if p.user != nil {
				if err := os.Chown(src, int(p.user.uid), int(p.user.gid)); err != nil {
					t.Fatal(err)
				}
			}
			if !p.readOnlyRoot {
				kind = "rw"
			}
		}
		p.mounts = append(p.mounts, mount{kind, src, f.path})
	}
	underRoot := func(path string) bool {
		for _, r := range img.roots {
			if path == r || strings.HasPrefix(path, r+"/") {
				return true
			}
		}
		return false
	}

	// Volumes first: they decide how paths are rewritten.
	rewrite := map[string]string{}
	for _, m := range c.VolumeMounts {
		dir := filepath.Join(root, "volumes", m.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// What the kubelet does for fsGroup: the volume's group is fsGroup,
		// group-writable, setgid.
		if p.user != nil {
			if err := os.Chown(dir, 0, int(p.user.fsGroup)); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o2775); err != nil {
				t.Fatal(err)
			}
		}
		kind := "rw"
		if m.ReadOnly {
			kind = "ro"
		}
		if info, err := os.Stat(m.MountPath); err == nil && info.IsDir() || underRoot(m.MountPath) {
			p.mounts = append(p.mounts, mount{kind, dir, m.MountPath})
		} else {
			rewrite[m.MountPath] = dir
			// A mount of its own, so that it stays writable under a
			// read-only root.
			p.mounts = append(p.mounts, mount{kind, dir, dir})
		}
		if m.SubPath != "" {
			t.Fatalf("container %s mounts %s with subPath, which this test does not model", c.Name, m.Name)
		}
	}
	for _, to := range rewrite {
		for _, m := range p.mounts {
			if m.src != m.dst && (to == m.dst || strings.HasPrefix(to, m.dst+"/")) {
				t.Fatalf("container %s: folder %s is under %s, which the process sees as its volume: keep the test's folders elsewhere", c.Name, to, m.dst)
			}
		}
	}
	// path rewrites a path, or the value of a -flag=path argument.
	var path func(string) string
	path = func(s string) string {
		for from, to := range rewrite {
			if s == from {
				return to
			}
			if rest, ok := strings.CutPrefix(s, from+"/"); ok {
				return filepath.Join(to, rest)
			}
		}
		if flag, value, ok := strings.Cut(s, "="); ok && strings.HasPrefix(flag, "-") {
			return flag + "=" + path(value)
		}
		return s
	}

	cmd, args := img.entrypoint, img.cmd
	if len(c.Command) > 0 {
		cmd, args = c.Command, nil
	}
	if len(c.Args) > 0 {
		args = c.Args
	}
	argv := append(append([]string{}, cmd...), args...)
	if len(argv) == 0 {
		t.Fatalf("container %s has no command: neither the pod nor the image names one", c.Name)
	}
	if rest, ok := strings.CutPrefix(argv[0], "/usr/bin/"); ok {
		if _, err := os.Stat(filepath.Join(bin, rest)); err == nil {
			argv[0] = imageBin + "/" + rest
		}
	}
	for i := range argv {
		argv[i] = path(argv[i])
	}
	p.argv = argv

	env := map[string]string{"PATH": imageBin + ":/usr/bin:/bin"}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range img.env {
		k, v, _ := strings.Cut(kv, "=")
		set(k, path(v))
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			set(e.Name, path(e.Value))
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok := secrets[ref.Name][ref.Key]
			if !ok {
				t.Fatalf("container %s: env %s reads key %q of Secret %q, which gen bootstrap does not create", c.Name, e.Name, ref.Key, ref.Name)
			}
			set(e.Name, v)
		default:
			t.Fatalf("container %s: env %s has a valueFrom this test does not model", c.Name, e.Name)
		}
	}
	if len(c.EnvFrom) > 0 {
		t.Fatalf("container %s uses envFrom, which this test does not model", c.Name)
	}
	order = append(order, "PATH")
	for _, k := range order {
		p.env = append(p.env, k+"="+env[k])
	}

	// The working directory: a volume (rewritten or mounted) or a folder of
	// this machine is used as it is; a folder that only the image has (the
	// SeaweedFS image's WORKDIR /data, in a pod without a volume there)
	// becomes an empty folder of the test, never one on this machine.
	p.dir = "/"
	wd := img.workingDir
	if c.WorkingDir != "" {
		wd = c.WorkingDir
	}
	if wd != "" {
		p.dir = path(wd)
		if info, err := os.Stat(p.dir); (err != nil || !info.IsDir()) && !underRoot(p.dir) {
			p.dir = filepath.Join(root, "workdir")
			if err := os.MkdirAll(p.dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.logDir = root
	return p
}

// securityOf returns the user a container runs as and whether its root
// filesystem is read-only, from the pod's and the container's security
// context (the container's wins), and fails on settings this test cannot
// honour.
func securityOf(t testing.TB, pod corev1.PodSpec, c corev1.Container) (*user, bool) {
	t.Helper()
	var uid, gid, fsGroup *int64
	if ps := pod.SecurityContext; ps != nil {
		uid, gid, fsGroup = ps.RunAsUser, ps.RunAsGroup, ps.FSGroup
	}
	readOnly := false
	if cs := c.SecurityContext; cs != nil {
		if cs.RunAsUser != nil {
			uid = cs.RunAsUser
		}
		if cs.RunAsGroup != nil {
			gid = cs.RunAsGroup
		}
		readOnly = cs.ReadOnlyRootFilesystem != nil && *cs.ReadOnlyRootFilesystem
		if cs.Privileged != nil && *cs.Privileged || cs.Capabilities != nil && len(cs.Capabilities.Add) > 0 {
			t.Fatalf("container %s asks for privileges, which this test does not grant", c.Name)
		}
	}
	if uid == nil {
		// The image's user would apply; both images here run as root
		// without one, which the rendered pods must never do.
		t.Fatalf("container %s names no runAsUser", c.Name)
	}
	u := &user{uid: *uid, gid: *uid, fsGroup: *uid}
	if gid != nil {
		u.gid = *gid
	}
	if fsGroup != nil {
		u.fsGroup = *fsGroup
	}
	return u, readOnly
}

// openPath lets any user traverse the folders from TMPDIR down to dir (the
// test's folders are created 0700): the processes run as the pod's user.
func openPath(t testing.TB, dir string) {
	t.Helper()
	top := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if d == top || d == filepath.Dir(d) {
			return
		}
	}
}

// launcher runs in the process's own mount namespace (unshare --mount, which
// makes it private): it makes the mounts given as "count kind src dst ...",
// creating a missing mount point (toProcess names those only inside a tmpfs
// it asked for), remounts / and those tmpfs read-only if asked, changes to
// the working directory, then execs the container's argv, untouched, as the
// given user through setpriv (no capabilities, no_new_privs).
const launcher = `n=$1; shift; tmpfs=
while [ "$n" -gt 0 ]; do
  kind=$1 src=$2 dst=$3; shift 3; n=$((n-1))
  if [ "$kind" = tmpfs ]; then mount -t tmpfs -o mode=0755 tmpfs "$dst" || exit 1; tmpfs="$tmpfs $dst"; continue; fi
  if [ ! -e "$dst" ]; then
    if [ -d "$src" ]; then mkdir -p "$dst" || exit 1; else mkdir -p "$(dirname "$dst")" && : >"$dst" || exit 1; fi
  fi
  mount --bind "$src" "$dst" || exit 1
  if [ "$kind" = ro ]; then mount -o remount,bind,ro "$dst" || exit 1; fi
done
if [ "$1" = ro ]; then
  mount -o remount,bind,ro / || exit 1
  for d in $tmpfs; do mount -o remount,ro "$d" || exit 1; done
fi
cd "$2" || exit 1
shift 2
if [ "$1" = - ]; then shift; exec "$@"; fi
uid=$1 gid=$2 groups=$3; shift 3
exec setpriv --reuid="$uid" --regid="$gid" --groups="$groups" --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"`

// start starts p (stopped when the test ends).
func (p process) start(t testing.TB) *testproc.Process {
	t.Helper()
	args := []string{"--mount", "--", "/bin/sh", "-c", launcher, "launcher", strconv.Itoa(len(p.mounts))}
	for _, m := range p.mounts {
		args = append(args, m.kind, m.src, m.dst)
	}
	if p.readOnlyRoot {
		args = append(args, "ro", p.dir)
	} else {
		args = append(args, "rw", p.dir)
	}
	if p.user != nil {
		args = append(args, fmt.Sprint(p.user.uid), fmt.Sprint(p.user.gid), fmt.Sprint(p.user.fsGroup))
	} else {
		args = append(args, "-")
	}
	args = append(args, p.argv...)
	bin, err := lookPath("unshare")
	if err != nil {
		t.Fatal(err)
	}
	// testproc starts the launcher in p.logDir and logs to p.logDir/<name>.log.
	proc, err := testproc.Start(p.logDir, p.name, bin, args, p.env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A Job's process is meant to exit; a server's is not.
		if exited, err := proc.Exited(); exited && !proc.Stopped() && !p.runsToCompletion {
			t.Errorf("%s exited while the test was running (%s)\n%s", p.name, testproc.DescribeExit(err), proc.Tail(80))
		} else if t.Failed() {
			t.Logf("the test failed; log of %s:\n%s", p.name, proc.Tail(80))
		}
		proc.Stop()
	})
	return proc
}

// lookPath finds name in the machine's PATH.
func lookPath(name string) (string, error) {
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		f := filepath.Join(d, name)
		if info, err := os.Stat(f); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return f, nil
		}
	}
	return "", fmt.Errorf("%s is not on PATH", name)
}

// runJob runs the Job's container to completion (a minute at most) and
// returns its output and peak memory; an exit other than 0 fails the test.
func runJob(t testing.TB, p process) (string, int64) {
	t.Helper()
	out, rss, err := tryJob(t, p)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out, rss
}

// tryJob runs the Job's container to completion and returns its output, the
// peak resident memory of its largest process, and how it ended.
func tryJob(t testing.TB, p process) (string, int64, error) {
	t.Helper()
	p.name += "-job"
	p.runsToCompletion = true
	proc := p.start(t)
	select {
	case <-proc.Done():
	case <-time.After(time.Minute):
		proc.Stop()
		return readFile(proc.LogPath), 0, fmt.Errorf("%s did not finish within a minute", p.name)
	}
	_, err := proc.Exited()
	if err != nil {
		return readFile(proc.LogPath), proc.MaxRSS(), fmt.Errorf("%s failed (%s)", p.name, testproc.DescribeExit(err))
	}
	return readFile(proc.LogPath), proc.MaxRSS(), nil
}

// checkMemory fails the test when a process's peak resident memory came
// within 10% of the container's memory limit. A memory cgroup counts at
// least that much (it also counts page cache and processes running side by
// side): at the limit the kernel reclaims the program's own pages over and
// over, then kills the pod. Passing is necessary, not sufficient.
func checkMemory(t testing.TB, what string, c corev1.Container, rss int64) {
	t.Helper()
	limit := c.Resources.Limits.Memory()
	if limit.IsZero() {
		t.Errorf("%s: container %s has no memory limit", what, c.Name)
		return
	}
	if rss == 0 {
		t.Errorf("%s: peak memory unknown", what)
		return
	}
	if rss >= limit.Value()/10*9 {
		t.Errorf("%s: peak resident memory %d MiB is within 10%% of the memory limit %s: the pod would run at its limit, or be OOM-killed", what, rss>>20, limit)
		return
	}
	t.Logf("%s: peak resident memory %d MiB, under the limit %s (request %s)", what, rss>>20, limit, c.Resources.Requests.Memory())
}

func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

// probe is one of the container's HTTP probes, resolved to a URL on podAddr.
type probe struct {
	kind string
	url  string
}

// probes returns the startup, readiness and liveness probes of c, with
// named ports resolved to c's container ports.
func probes(t testing.TB, c corev1.Container) []probe {
	t.Helper()
	var out []probe
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
	}{{"startup", c.StartupProbe}, {"readiness", c.ReadinessProbe}, {"liveness", c.LivenessProbe}} {
		if p.probe == nil {
			continue
		}
		h := p.probe.HTTPGet
		if h == nil {
			t.Fatalf("container %s: %s probe is not httpGet, which this test does not model", c.Name, p.kind)
		}
		port := h.Port.IntValue()
		if h.Port.StrVal != "" {
			port = int(containerPort(t, c, h.Port.StrVal))
		}
		scheme := strings.ToLower(string(h.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		out = append(out, probe{kind: p.kind, url: fmt.Sprintf("%s://%s:%d%s", scheme, podAddr, port, h.Path)})
	}
	if len(out) == 0 {
		t.Fatalf("container %s has no probe", c.Name)
	}
	return out
}

// get asks url once, the way the kubelet does (a 2xx or 3xx is a success).
func get(url string) error {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// waitReady polls the readiness probe until it succeeds and returns how long
// that took from start; the server exiting or a timeout fails the test.
func waitReady(t testing.TB, proc *testproc.Process, ps []probe, start time.Time, timeout time.Duration) time.Duration {
	t.Helper()
	var ready probe
	for _, p := range ps {
		if p.kind == "readiness" {
			ready = p
		}
	}
	if ready.url == "" {
		t.Fatal("the container has no readiness probe")
	}
	var last error
	for time.Since(start) < timeout {
		if last = get(ready.url); last == nil {
			return time.Since(start)
		}
		if exited, err := proc.Exited(); exited {
			t.Fatalf("%s exited before it was ready (%s)\n%s", proc.Name, testproc.DescribeExit(err), proc.Tail(80))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("readiness probe %s did not succeed within %s: %v", ready.url, timeout, last)
	return 0
}
