//go:build linux

package objectstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	corev1 "k8s.io/api/core/v1"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testproc"
)

// Image facts, from each image's own build file at the commit the binaries
// are built from (hack/objectstore/build.sh), keyed by the image repository
// (the reference without its tag).
var images = map[string]image{
	// minio/minio Dockerfile.release (unchanged between the pinned release
	// RELEASE.2025-09-07T16-13-09Z and the built commit 7aac2a2c5b7c):
	// ENTRYPOINT ["/usr/bin/docker-entrypoint.sh"], CMD ["minio"], and its
	// ENV lines. docker-entrypoint.sh is the module's dockerscripts/ file,
	// installed beside the binaries by the build script; it prepends "minio"
	// to args that do not start with it.
	"quay.io/minio/minio": {
		entrypoint: []string{"/usr/bin/docker-entrypoint.sh"},
		cmd:        []string{"minio"},
		env: []string{
			"MINIO_ACCESS_KEY_FILE=access_key",
			"MINIO_SECRET_KEY_FILE=secret_key",
			"MINIO_ROOT_USER_FILE=access_key",
			"MINIO_ROOT_PASSWORD_FILE=secret_key",
			"MINIO_KMS_SECRET_KEY_FILE=kms_master_key",
			"MINIO_UPDATE_MINISIGN_PUBKEY=RWTx5Zr1tiHQLwG9keckT0c45M3AGeHD6IvimQHpyRywVWGbP1aVSGav",
			"MINIO_CONFIG_ENV_FILE=config.env",
			"MC_CONFIG_DIR=/tmp/.mc",
		},
	},
	// seaweedfs docker/Dockerfile.go_build, final stage: ENTRYPOINT
	// ["/entrypoint.sh"], CMD ["mini", "-dir=/data"], WORKDIR /data, no ENV.
	// (/entrypoint.sh is not provided: the rendered containers name their
	// command, and one that did not would fail here.)
	"docker.io/chrislusf/seaweedfs": {
		entrypoint: []string{"/entrypoint.sh"},
		cmd:        []string{"mini", "-dir=/data"},
		workingDir: "/data",
	},
}

// imageOf returns the facts of the image ref names (a registry mirror
// prefix, spec.images.registryMirror, is allowed).
func imageOf(t testing.TB, ref string) image {
	t.Helper()
	repo := ref
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	for name, img := range images {
		if repo == name || strings.HasSuffix(repo, "/"+name) {
			return img
		}
	}
	t.Fatalf("image %s: this test knows no image facts for it (known: quay.io/minio/minio, docker.io/chrislusf/seaweedfs)", ref)
	return image{}
}

// storeCase is one object store type.
type storeCase struct {
	typ       string // spec.objectStore.type
	component string // its overlay folder
	endpoint  string // the in-cluster S3 endpoint the platform uses
	binaries  []string
	// prefixWriter is a piece of the one line of the Job's script that writes
	// the event-log prefix object; the negative control turns that line
	// into a no-op.
	prefixWriter string
}

// s3Check is what the platform needs from the store: the bucket, and an
// object under the event-log prefix (S3 has no folders; S3A sees the log
// directory only through an object under it). It returns the keys under the
// prefix.
func s3Check(ctx context.Context, c *minio.Client, bucket, prefix string) ([]string, error) {
	ok, err := c.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("bucket %q: %w", bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("bucket %q does not exist", bucket)
	}
	var keys []string
	for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, o.Err)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no object under %q in bucket %q: S3A would not find the event-log directory", prefix, bucket)
	}
	return keys, nil
}

// brokenJob is a test copy of the Job's container whose script must fail s3Check.
type brokenJob struct {
	name string
	edit func(script string) (string, error)
	want string // in s3Check's error
}

// negativeControls are the copies of the Job's script that prove s3Check can
// fail: a wrong bucket name, and the command that writes the prefix dropped.
func negativeControls(sc storeCase, bucket string) []brokenJob {
	return []brokenJob{
		{
			name: "wrong bucket name",
			edit: func(s string) (string, error) {
				if !strings.Contains(s, bucket) {
					return "", fmt.Errorf("the script does not name bucket %q", bucket)
				}
				return strings.ReplaceAll(s, bucket, bucket+"-wrong"), nil
			},
			want: fmt.Sprintf("bucket %q does not exist", bucket),
		},
		{
			name: "prefix write dropped",
			edit: func(s string) (string, error) {
				lines := strings.Split(s, "\n")
				n := 0
				for i, l := range lines {
					if strings.Contains(l, sc.prefixWriter) {
						lines[i] = ":"
						n++
					}
				}
				if n != 1 {
					return "", fmt.Errorf("want one line with %q in the script, found %d", sc.prefixWriter, n)
				}
				return strings.Join(lines, "\n"), nil
			},
			want: "no object under",
		},
	}
}

// withScript returns a copy of c whose `sh -c` script is edited.
func withScript(t testing.TB, c corev1.Container, edit func(string) (string, error)) corev1.Container {
	t.Helper()
	if len(c.Command) != 3 || c.Command[1] != "-c" {
		t.Fatalf("Job container %s: command is not [sh -c script]: %q", c.Name, c.Command)
	}
	script, err := edit(c.Command[2])
	if err != nil {
		t.Fatal(err)
	}
	if script == c.Command[2] {
		t.Fatal("the edit changed nothing")
	}
	c.Command = []string{c.Command[0], c.Command[1], script}
	return c
}

// testStore renders cfg, runs the store's server from its rendered
// Deployment, checks its probes, runs the rendered bucket Job twice and checks
// the bucket and prefix with an S3 client after each run. Then, on a second,
// fresh server, it runs the negative controls.
func testStore(t *testing.T, cfg config.Platform, sc storeCase) {
	bin := requireBinaries(t, sc.binaries...)
	s := renderStore(t, cfg, sc.component)
	cfg = s.cfg
	secrets := newCredentials(t, cfg)
	names := serviceNames(t, s)
	setHosts(t, names)
	root := t.TempDir()
	leaveMachineAlone(t, s)

	u, err := url.Parse(sc.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	secret := secrets[cfg.Spec.MinIO.CredentialsSecret]
	newClient := func(user, password string) *minio.Client { return s3Client(t, u, names, user, password) }
	user, password := secret[component.CredentialsUserKey], secret[component.CredentialsPasswordKey]
	client := newClient(user, password)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bucket := cfg.Spec.MinIO.Bucket
	prefix := strings.Trim(cfg.Spec.MinIO.EventLogPrefix, "/") + "/"
	jobPod := s.job.Spec.Template.Spec
	job := only(t, "Job "+s.job.Name, jobPod)
	jobImage := imageOf(t, job.Image)

	// The store starts empty: what the Job makes, the Job made.
	server := startServer(t, s, sc, bin, filepath.Join(root, "server"), secrets)
	if _, err := s3Check(ctx, client, bucket, prefix); err == nil {
		t.Fatalf("bucket %q and prefix %q exist before the Job ran", bucket, prefix)
	}

	// The rendered Job, verbatim, twice: a new pod each time (fresh
	// volumes), as a re-created or retried Job would get.
	var first []string
	for run := 1; run <= 2; run++ {
		jp := toProcess(t, jobPod, job, jobImage, bin, filepath.Join(root, fmt.Sprintf("job-%d", run)), secrets)
		began := time.Now()
		out, rss := runJob(t, jp)
		checkMemory(t, fmt.Sprintf("run %d of the bucket Job", run), job, rss)
		keys, err := s3Check(ctx, client, bucket, prefix)
		if err != nil {
			t.Fatalf("after run %d of the bucket Job: %v\njob output:\n%s", run, err, out)
		}
		t.Logf("run %d of the bucket Job: %.1fs, objects under %s: %q; output:\n%s", run, time.Since(began).Seconds(), prefix, keys, out)
		if run == 1 {
			first = keys
		} else if !slices.Equal(first, keys) {
			t.Errorf("the second run changed the objects under %s: %q, then %q", prefix, first, keys)
		}
	}
	buckets, err := client.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var bucketNames []string
	for _, b := range buckets {
		bucketNames = append(bucketNames, b.Name)
	}
	if !slices.Equal(bucketNames, []string{bucket}) {
		t.Errorf("ListBuckets = %q, want only %q", bucketNames, bucket)
	}
	// The store must check the credentials it was given: with a wrong
	// secret or none, the same check must fail (else the credentials that
	// gen bootstrap creates would protect nothing).
	for _, bad := range []struct{ name, user, password string }{
		{"a wrong secret", user, password + "x"},
		{"no credentials", "", ""},
	} {
		if _, err := s3Check(ctx, newClient(bad.user, bad.password), bucket, prefix); err == nil {
			t.Errorf("with %s, s3Check passed: the store does not check credentials", bad.name)
		} else {
			t.Logf("with %s, s3Check failed as it must: %v", bad.name, err)
		}
	}

	// Negative controls, each on a fresh store (the same ports, so the
	// previous server stops first): a broken copy of the script must leave
	// the store in a state s3Check rejects, for the reason it names.
	server.Stop()
	checkMemory(t, sc.typ+" server", only(t, "Deployment "+s.deployment.Name, s.deployment.Spec.Template.Spec), server.MaxRSS())
	for i, b := range negativeControls(sc, bucket) {
		broken := withScript(t, job, b.edit)
		srv := startServer(t, s, sc, bin, filepath.Join(root, fmt.Sprintf("negative-%d-server", i)), secrets)
		jp := toProcess(t, jobPod, broken, jobImage, bin, filepath.Join(root, fmt.Sprintf("negative-%d-job", i)), secrets)
		out, _, runErr := tryJob(t, jp)
		_, err := s3Check(ctx, client, bucket, prefix)
		switch {
		case err == nil:
			t.Errorf("negative control %q: s3Check passed, so it cannot tell a broken Job from a working one (job: %v)\n%s", b.name, runErr, out)
		case !strings.Contains(err.Error(), b.want):
			t.Errorf("negative control %q: s3Check failed for another reason than %q: %v", b.name, b.want, err)
		default:
			t.Logf("negative control %q: s3Check failed as it must: %v", b.name, err)
		}
		srv.Stop()
	}

	// The Job started before its store (a store restarted or rescheduled
	// while the Job runs): the script's wait loop must carry it until the
	// store answers. The server starts once the Job has logged its first
	// failed attempt.
	jp := toProcess(t, jobPod, job, jobImage, bin, filepath.Join(root, "early-job"), secrets)
	jp.name += "-job"
	jp.runsToCompletion = true
	early := jp.start(t)
	if !waitFor(30*time.Second, func() bool { return readFile(early.LogPath) != "" || isDone(early) }) || isDone(early) {
		t.Fatalf("the Job started before its store neither waited nor failed:\n%s", readFile(early.LogPath))
	}
	srv := startServer(t, s, sc, bin, filepath.Join(root, "late-server"), secrets)
	select {
	case <-early.Done():
	case <-time.After(time.Minute):
		t.Fatalf("the Job started before its store did not finish within a minute of the store's start:\n%s", readFile(early.LogPath))
	}
	if _, err := early.Exited(); err != nil {
		t.Fatalf("the Job started before its store failed (%v):\n%s", err, readFile(early.LogPath))
	}
	if _, err := s3Check(ctx, client, bucket, prefix); err != nil {
		t.Fatalf("after the Job started before its store: %v\njob output:\n%s", err, readFile(early.LogPath))
	}
	t.Logf("the Job started before its store waited for it and succeeded; output:\n%s", readFile(early.LogPath))
	srv.Stop()

	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("the test ran out of time")
	}
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func isDone(p *testproc.Process) bool {
	exited, _ := p.Exited()
	return exited
}

// s3Client is an S3 client of the store at endpoint u. It resolves the
// rendered Service names itself: Go caches /etc/hosts for 5 s within a
// process, and the previous test's names may still be in that cache. (The
// pods' processes are new processes: they read the hosts file afresh.)
func s3Client(t testing.TB, u *url.URL, names []string, user, password string) *minio.Client {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(user, password, ""),
		Secure: u.Scheme == "https",
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(names, host) {
				return nil, fmt.Errorf("%s is not the name of a rendered Service", host)
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(podAddr, port))
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startServer starts the store's server from the rendered Deployment with
// its data in dir, waits for its readiness probe, and asks every probe.
func startServer(t *testing.T, s store, sc storeCase, bin, dir string, secrets map[string]map[string]string) *testproc.Process {
	t.Helper()
	c := only(t, "Deployment "+s.deployment.Name, s.deployment.Spec.Template.Spec)
	p := toProcess(t, s.deployment.Spec.Template.Spec, c, imageOf(t, c.Image), bin, dir, secrets)
	t.Logf("server: %q", p.argv)
	start := time.Now()
	proc := p.start(t)
	ps := probes(t, c)
	ready := waitReady(t, proc, ps, start, 3*time.Minute)
	t.Logf("%s: readiness probe succeeded %.1fs after start", sc.typ, ready.Seconds())
	for _, pr := range ps {
		if err := get(pr.url); err != nil {
			t.Errorf("%s probe: %v", pr.kind, err)
		} else {
			t.Logf("%s probe %s: ok", pr.kind, pr.url)
		}
	}
	return proc
}

// leaveMachineAlone fails the test if a path the pods name (a volume's mount
// path, an image's working directory) that does not exist on this machine
// exists after the test: the processes must only write to the test's
// folders, whatever their pods name.
func leaveMachineAlone(t *testing.T, s store) {
	t.Helper()
	var paths []string
	for _, pod := range []corev1.PodSpec{s.deployment.Spec.Template.Spec, s.job.Spec.Template.Spec} {
		for _, c := range pod.Containers {
			for _, m := range c.VolumeMounts {
				paths = append(paths, m.MountPath)
			}
			paths = append(paths, c.WorkingDir, imageOf(t, c.Image).workingDir)
		}
	}
	var absent []string
	for _, p := range paths {
		if p == "" {
			continue
		}
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			absent = append(absent, p)
		}
	}
	t.Cleanup(func() {
		for _, p := range absent {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s exists on this machine after the test: something the test started wrote outside the test's folders", p)
			}
		}
	})
}
