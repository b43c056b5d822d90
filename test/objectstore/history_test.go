//go:build linux

package objectstore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/rdspark/gen/bootstrap/kustomize"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/history"
	genminio "github.com/rdspark/gen/generator/minio"
	"github.com/rdspark/gen/internal/testproc"
	"github.com/rdspark/gen/internal/testtree"
)

func buildFolder(dir string) ([]*unstructured.Unstructured, error) {
	return kustomize.BuildFS(filesys.MakeFsOnDisk(), dir)
}

// eventLogName matches the objects Spark 4's event-log writer makes under
// the log directory: a rolling log (spark.eventLog.rolling.enabled is true by
// default since Spark 4.0) is a folder eventlog_v2_<app id>/ of
// events_<n>_<app id>[.<codec>] files beside appstatus_<app id>[.inprogress];
// a single-file log is <app id>[.<codec>][.inprogress].
var eventLogName = regexp.MustCompile(`^eventlog_v2_([^/]+)/(events_[0-9]+_|appstatus_)`)

// TestHistoryServerListsARealSparkApplication runs the rendered platform's
// Spark half for real on this machine, driven by the rendered objects: the
// MinIO server and the bucket Job (as TestMinIO does), then the example
// SparkApplication's SparkPi in a real Spark 4.0.4 JVM with the example's
// sparkConf, hadoopConf and env, writing its event log to MinIO over s3a://,
// then the History Server's container, as rendered in the base and in the
// laptop overlay (its command, args, env, spark-defaults.conf at its mount
// path, uid 185, read-only root, only its emptyDir writable). Each History
// Server must pass its probes on the named port, list the application as
// completed in /api/v1/applications, and stay well under its memory limit.
// Negative controls: with a wrong secret, and with a wrong endpoint, the
// History Server fails and its log says why.
func TestHistoryServerListsARealSparkApplication(t *testing.T) {
	cfg := config.Default()
	cfg.Complete()
	img := sparkImage(t, cfg) // skips under -short; fails when Spark is missing
	bin := requireBinaries(t, "minio", "mc", "docker-entrypoint.sh")
	out := testtree.Write(t, cfg)
	env := cfg.Spec.Environments[0].Name

	// The store, its bucket and prefix, as TestMinIO proves them.
	s := renderStore(t, cfg, genminio.Name)
	secrets := newCredentials(t, cfg)
	names := serviceNames(t, s)
	setHosts(t, names)
	root := t.TempDir()
	startServer(t, s, storeCase{typ: config.ObjectStoreMinIO}, bin, filepath.Join(root, "minio"), secrets)
	jobPod := s.job.Spec.Template.Spec
	job := only(t, "Job "+s.job.Name, jobPod)
	runJob(t, toProcess(t, jobPod, job, imageOf(t, job.Image), bin, filepath.Join(root, "bucket-job"), secrets))

	endpoint, err := url.Parse(genminio.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	secret := secrets[cfg.Spec.MinIO.CredentialsSecret]
	client := s3Client(t, endpoint, names, secret[component.CredentialsUserKey], secret[component.CredentialsPasswordKey])
	bucket, prefix := cfg.Spec.MinIO.Bucket, strings.Trim(cfg.Spec.MinIO.EventLogPrefix, "/")+"/"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// SparkPi, for real, with the example application's settings.
	app := exampleApplication(t, out)
	checkSparkImage(t, cfg, "the example SparkApplication", app.Spec.Image)
	pod, driver := localSubmit(t, app)
	p := toProcess(t, pod, driver, img, bin, filepath.Join(root, "spark-pi"), secrets)
	began := time.Now()
	output, rss := runJobWithin(t, p, 5*time.Minute)
	if !strings.Contains(output, "Pi is roughly 3.1") {
		t.Fatalf("SparkPi printed no estimate of pi:\n%s", tail(output, 60))
	}
	t.Logf("SparkPi (local mode, %d tasks) finished in %.1fs, peak RSS %d MiB", len(app.Spec.Arguments), time.Since(began).Seconds(), rss>>20)
	appID := eventLogOf(ctx, t, client, bucket, prefix)
	t.Logf("event log of %s under s3a://%s/%s", appID, bucket, prefix)

	for _, variant := range []struct {
		name string
		elem []string
	}{
		{"base", []string{generator.ManifestsDir, history.Name}},
		{env + " overlay", []string{generator.OverlaysDir, env, history.Name}},
	} {
		t.Run(variant.name, func(t *testing.T) {
			h := renderHistory(t, out, variant.elem...)
			c := only(t, "Deployment "+h.deployment.Name, h.deployment.Spec.Template.Spec)
			checkSparkImage(t, cfg, "the History Server", c.Image)
			dir := filepath.Join(root, "history-"+strings.ReplaceAll(variant.name, " ", "-"))
			hp := toProcess(t, h.deployment.Spec.Template.Spec, c, img, bin, dir, secrets)
			fillConfigMaps(t, h.deployment.Spec.Template.Spec, c, dir, h.configMaps)
			start := time.Now()
			proc := hp.start(t)
			ps := probes(t, c)
			ready := waitReady(t, proc, ps, start, 3*time.Minute)
			for _, pr := range ps {
				if err := get(pr.url); err != nil {
					t.Errorf("%s probe: %v", pr.kind, err)
				}
			}
			listed := waitListed(t, proc, c, appID, 2*time.Minute)
			t.Logf("readiness probe passed %.1fs after start; %s listed as completed %.1fs after start", ready.Seconds(), appID, listed.Seconds())
			proc.Stop()
			checkMemory(t, "History Server ("+variant.name+")", c, proc.MaxRSS())
		})
	}

	// Negative controls on the laptop overlay: each must make the History
	// Server fail, and say why in its log.
	h := renderHistory(t, out, generator.OverlaysDir, env, history.Name)
	c := only(t, "Deployment "+h.deployment.Name, h.deployment.Spec.Template.Spec)
	for _, bad := range []struct {
		name    string
		secrets func() map[string]map[string]string
		conf    func(string) string
		want    string
	}{
		{
			name: "a wrong secret",
			secrets: func() map[string]map[string]string {
				wrong := map[string]string{}
				for k, v := range secret {
					wrong[k] = v
				}
				wrong[component.CredentialsPasswordKey] += "x"
				return map[string]map[string]string{cfg.Spec.MinIO.CredentialsSecret: wrong}
			},
			// S3A's translation of the store's 403 on the first read of
			// the log directory.
			want: "java.nio.file.AccessDeniedException: s3a://" + bucket + "/" + strings.TrimSuffix(prefix, "/"),
		},
		{
			name: "a wrong endpoint",
			conf: func(conf string) string {
				return strings.Replace(conf, endpoint.Host, "minio.minio-wrong.svc.cluster.local:9000", 1)
			},
			// The AWS SDK's lookup of the endpoint's host, on the first read.
			want: "java.net.UnknownHostException: getFileStatus on s3a://" + bucket,
		},
	} {
		t.Run(bad.name, func(t *testing.T) {
			sec, cms := secrets, h.configMaps
			if bad.secrets != nil {
				sec = bad.secrets()
			}
			if bad.conf != nil {
				cms = editConfigMaps(t, h.configMaps, bad.conf)
			}
			dir := filepath.Join(root, "negative-"+strings.ReplaceAll(bad.name, " ", "-"))
			hp := toProcess(t, h.deployment.Spec.Template.Spec, c, img, bin, dir, sec)
			hp.runsToCompletion = true // it is meant to fail
			fillConfigMaps(t, h.deployment.Spec.Template.Spec, c, dir, cms)
			proc := hp.start(t)
			err := waitFails(t, proc, c, appID, 3*time.Minute)
			log := readFile(proc.LogPath)
			if !strings.Contains(log, bad.want) {
				t.Fatalf("with %s the History Server failed (%v), but its log does not say %q:\n%s", bad.name, err, bad.want, tail(log, 40))
			}
			t.Logf("with %s the History Server failed as it must (%v); its log says: %s", bad.name, err, firstLine(log, "Exception in thread"))
		})
	}
}

// runJobWithin runs p to completion within timeout and returns its output
// and peak memory; a failure or a timeout fails the test.
func runJobWithin(t testing.TB, p process, timeout time.Duration) (string, int64) {
	t.Helper()
	p.runsToCompletion = true
	proc := p.start(t)
	select {
	case <-proc.Done():
	case <-time.After(timeout):
		proc.Stop()
		t.Fatalf("%s did not finish within %s:\n%s", p.name, timeout, proc.Tail(60))
	}
	if _, err := proc.Exited(); err != nil {
		t.Fatalf("%s failed (%s):\n%s", p.name, testproc.DescribeExit(err), proc.Tail(80))
	}
	return readFile(proc.LogPath), proc.MaxRSS()
}

// eventLogOf returns the id of the one application whose event log is under
// prefix, failing unless there is exactly one, and it is complete.
func eventLogOf(ctx context.Context, t testing.TB, c *minio.Client, bucket, prefix string) string {
	t.Helper()
	apps := map[string][]string{}
	var keys []string
	for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, o.Err)
		}
		keys = append(keys, o.Key)
		if m := eventLogName.FindStringSubmatch(strings.TrimPrefix(o.Key, prefix)); m != nil {
			apps[m[1]] = append(apps[m[1]], strings.TrimPrefix(o.Key, prefix))
		}
	}
	if len(apps) != 1 {
		t.Fatalf("want the event log of one application under s3://%s/%s in Spark 4's rolling format (eventlog_v2_<app id>/), found %d; objects: %q", bucket, prefix, len(apps), keys)
	}
	for id, files := range apps {
		for _, f := range files {
			if strings.HasSuffix(f, ".inprogress") {
				t.Fatalf("the event log of %s is still in progress after the application ended: %q", id, files)
			}
		}
		t.Logf("event log files: %q", files)
		return id
	}
	return ""
}

// application is the part of a /api/v1/applications entry the test reads.
type application struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Attempts []struct {
		Completed bool `json:"completed"`
	} `json:"attempts"`
}

// applicationsURL is the History Server's REST API on the container's port.
func applicationsURL(t testing.TB, c corev1.Container) string {
	t.Helper()
	return fmt.Sprintf("http://%s:%d/api/v1/applications", podAddr, containerPort(t, c, "http"))
}

// listApplications asks the History Server's REST API once.
func listApplications(u string) ([]application, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	var apps []application
	if err := json.Unmarshal(body, &apps); err != nil {
		return nil, fmt.Errorf("GET %s: %w: %s", u, err, body)
	}
	return apps, nil
}

// waitListed polls the REST API until it lists appID with a completed
// attempt, and returns how long after the start of the poll that was.
func waitListed(t testing.TB, proc *testproc.Process, c corev1.Container, appID string, timeout time.Duration) time.Duration {
	t.Helper()
	u := applicationsURL(t, c)
	start := time.Now()
	var last string
	for time.Since(start) < timeout {
		apps, err := listApplications(u)
		switch {
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("%+v", apps)
			for _, a := range apps {
				if a.ID == appID && len(a.Attempts) > 0 && a.Attempts[0].Completed {
					return time.Since(start)
				}
			}
		}
		if exited, err := proc.Exited(); exited {
			t.Fatalf("the History Server exited (%s)\n%s", testproc.DescribeExit(err), proc.Tail(80))
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("the History Server did not list %s as completed within %s; last answer: %s\n%s", appID, timeout, last, proc.Tail(40))
	return 0
}

// waitFails waits until the History Server fails: it exits, or, still
// running, it cannot list appID after its first scans (it answers with no
// application). It returns how it failed; a History Server that lists the
// application fails the test.
func waitFails(t testing.TB, proc *testproc.Process, c corev1.Container, appID string, timeout time.Duration) error {
	t.Helper()
	u := applicationsURL(t, c)
	start := time.Now()
	for time.Since(start) < timeout {
		select {
		case <-proc.Done():
			_, err := proc.Exited()
			return fmt.Errorf("it exited (%s)", testproc.DescribeExit(err))
		case <-time.After(time.Second):
		}
		if apps, err := listApplications(u); err == nil {
			for _, a := range apps {
				if a.ID == appID {
					t.Fatalf("the History Server lists %s: the broken setting was not used", appID)
				}
			}
		}
	}
	proc.Stop()
	return fmt.Errorf("it listed nothing for %s", timeout)
}

// editConfigMaps returns a copy of configMaps with every value edited,
// failing when the edit changes nothing.
func editConfigMaps(t testing.TB, configMaps map[string]map[string]string, edit func(string) string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	changed := false
	for name, data := range configMaps {
		out[name] = map[string]string{}
		for k, v := range data {
			out[name][k] = edit(v)
			changed = changed || out[name][k] != v
		}
	}
	if !changed {
		t.Fatal("the edit changed no ConfigMap")
	}
	return out
}

// firstLine is the first line of s that contains substr, or "".
func firstLine(s, substr string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
