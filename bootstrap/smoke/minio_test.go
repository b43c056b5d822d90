//go:build linux

package smoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rdspark/gen/bootstrap/doctor"
	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	minioc "github.com/rdspark/gen/generator/minio"
	"github.com/rdspark/gen/internal/testcache"
	"github.com/rdspark/gen/internal/testproc"
)

// minioBuild is what a developer runs when the MinIO binary is missing.
const minioBuild = "hack/objectstore/build.sh (it builds minio, mc and weed into the test cache)"

// minioBin is the MinIO server hack/objectstore/build.sh builds.
func minioBin(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real MinIO server; skipped under -short")
	}
	bin := testcache.Dir("objectstore", "bin", "minio")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the MinIO server is missing (%v): build it with %s", err, minioBuild)
	}
	return bin
}

// objectStore is a running MinIO with the platform's bucket and prefix, and
// its root credentials.
type objectStore struct {
	url, user, password string
	client              *minio.Client
	bucket, prefix      string
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// startMinIO runs the real MinIO server on loopback with fresh credentials
// and creates what the bucket Job creates: the bucket and <prefix>.keep.
func startMinIO(t *testing.T, cfg config.Platform) *objectStore {
	t.Helper()
	bin := minioBin(t)
	dir := t.TempDir()
	for _, d := range []string{"data", "certs", "home"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s := &objectStore{user: "smoke-" + randomHex(t, 4), password: randomHex(t, 16)}
	api, console := freePort(t), freePort(t)
	s.url = fmt.Sprintf("http://127.0.0.1:%d", api)
	proc, err := testproc.Start(dir, "minio", bin,
		[]string{"server", filepath.Join(dir, "data"), "--address", fmt.Sprintf("127.0.0.1:%d", api),
			"--console-address", fmt.Sprintf("127.0.0.1:%d", console), "--certs-dir", filepath.Join(dir, "certs")},
		[]string{"HOME=" + filepath.Join(dir, "home"), "MINIO_ROOT_USER=" + s.user, "MINIO_ROOT_PASSWORD=" + s.password,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if exited, werr := proc.Exited(); exited {
			t.Fatalf("minio exited: %s\n%s", testproc.DescribeExit(werr), proc.Tail(30))
		}
		if time.Now().After(deadline) {
			t.Fatalf("minio not ready after 30s\n%s", proc.Tail(30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.client, err = minio.New(strings.TrimPrefix(s.url, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(s.user, s.password, ""), BucketLookup: minio.BucketLookupPath, Region: cfg.Spec.ObjectStore.Region})
	if err != nil {
		t.Fatal(err)
	}
	s.bucket, s.prefix, err = Location(cfg.Spec.HistoryServer.LogDirectory)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: cfg.Spec.ObjectStore.Region}); err != nil {
		t.Fatal(err)
	}
	s.put(t, ".keep", "")
	return s
}

// put writes an object under the log directory, as S3A writes Spark's event logs.
func (s *objectStore) put(t testing.TB, name, content string) {
	t.Helper()
	_, err := s.client.PutObject(context.Background(), s.bucket, s.prefix+name, strings.NewReader(content), int64(len(content)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func (s *objectStore) exists(t testing.TB, name string) bool {
	t.Helper()
	_, err := s.client.StatObject(context.Background(), s.bucket, s.prefix+name, minio.StatObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Fatal(err)
	}
	return err == nil
}

// endpoints points the object store's Service at the loopback MinIO.
func (s *objectStore) endpoints() Loopback {
	return Loopback{Service{Namespace: component.MinIONamespace, Name: minioc.Name, Port: minioc.APIPort}.String(): s.url}
}

// credentialsSecret is the Secret copy gen bootstrap puts in a job namespace.
func credentialsSecret(cfg config.Platform, ns, user, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: cfg.Spec.MinIO.CredentialsSecret, Namespace: ns},
		Data:       map[string][]byte{component.CredentialsUserKey: []byte(user), component.CredentialsPasswordKey: []byte(password)},
	}
}

// eventLogLine is the first line Spark writes to every event log.
const eventLogLine = `{"Event":"SparkListenerLogStart","Spark Version":"4.0.4"}` + "\n"

// TestEventLogOnARealMinIO: the event log check reads a real MinIO through
// the S3 API with the credentials of the job namespace's Secret, finds each
// form Spark names a log, and names what is wrong otherwise.
func TestEventLogOnARealMinIO(t *testing.T) {
	cfg := config.Default()
	cfg.Complete()
	store := startMinIO(t, cfg)
	ns := cfg.Spec.SparkOperator.JobNamespaces[0]
	check := func(secret *corev1.Secret, appID string, wait time.Duration) (Step, string) {
		e := &EventLogs{Endpoints: store.endpoints(), Client: fake.NewClientset(secret), Config: cfg, Namespace: ns, Wait: wait, Poll: 50 * time.Millisecond}
		return e.Check(context.Background(), appID)
	}
	good := credentialsSecret(cfg, ns, store.user, store.password)
	id := func() string { return "spark-" + randomHex(t, 16) }

	t.Run("single file", func(t *testing.T) {
		a := id()
		store.put(t, a, eventLogLine)
		store.put(t, a+"0.inprogress", eventLogLine) // another application's id that starts alike
		s, where := check(good, a, time.Second)
		if s.Severity != doctor.OK || where != "s3a://"+store.bucket+"/"+store.prefix+a {
			t.Errorf("%+v %q", s, where)
		}
	})
	t.Run("written while waiting", func(t *testing.T) {
		a := id()
		store.put(t, a+".inprogress", eventLogLine)
		renamed := make(chan error, 1)
		go func() {
			time.Sleep(300 * time.Millisecond)
			// S3A's rename: copy to the final name, delete the old one.
			_, err := store.client.PutObject(context.Background(), store.bucket, store.prefix+a, strings.NewReader(eventLogLine), int64(len(eventLogLine)), minio.PutObjectOptions{})
			if err == nil {
				err = store.client.RemoveObject(context.Background(), store.bucket, store.prefix+a+".inprogress", minio.RemoveObjectOptions{})
			}
			renamed <- err
		}()
		s, where := check(good, a, 10*time.Second)
		if err := <-renamed; err != nil {
			t.Fatal(err)
		}
		if s.Severity != doctor.OK || !strings.HasSuffix(where, "/"+a) {
			t.Errorf("%+v %q", s, where)
		}
	})
	t.Run("rolling logs", func(t *testing.T) {
		a := id()
		store.put(t, "eventlog_v2_"+a+"/events_1_"+a, eventLogLine)
		store.put(t, "eventlog_v2_"+a+"/appstatus_"+a, "")
		s, where := check(good, a, time.Second)
		if s.Severity != doctor.OK || where != "s3a://"+store.bucket+"/"+store.prefix+"eventlog_v2_"+a+"/" {
			t.Errorf("%+v %q", s, where)
		}
	})
	t.Run("only in progress", func(t *testing.T) {
		a := id()
		store.put(t, a+".inprogress", eventLogLine)
		s, where := check(good, a, 300*time.Millisecond)
		if s.Severity != doctor.Warning || !strings.HasSuffix(where, a+".inprogress") || !strings.Contains(s.Problem, "in-progress") {
			t.Errorf("%+v %q", s, where)
		}
	})
	t.Run("no event log", func(t *testing.T) {
		s, where := check(good, id(), 300*time.Millisecond)
		if s.Severity != doctor.Failure || where != "" || !strings.Contains(s.Problem, "no event log") || !strings.Contains(s.Cause, "spark.eventLog.dir") {
			t.Errorf("%+v %q", s, where)
		}
	})
	t.Run("wrong credentials", func(t *testing.T) {
		s, _ := check(credentialsSecret(cfg, ns, store.user, "not-the-password"), id(), 300*time.Millisecond)
		if s.Severity != doctor.Failure || !strings.Contains(s.Problem, "refused the credentials") {
			t.Errorf("%+v", s)
		}
		if strings.Contains(fmt.Sprint(s), "not-the-password") || strings.Contains(fmt.Sprint(s), store.password) {
			t.Error("the step shows a password")
		}
	})
	t.Run("no credentials secret", func(t *testing.T) {
		e := &EventLogs{Endpoints: store.endpoints(), Client: fake.NewClientset(), Config: cfg, Namespace: ns, Wait: time.Second}
		s, _ := e.Check(context.Background(), id())
		if s.Severity != doctor.Failure || !strings.Contains(s.Fix, "gen bootstrap") {
			t.Errorf("%+v", s)
		}
	})
	t.Run("no bucket", func(t *testing.T) {
		other := cfg
		other.Spec.HistoryServer.LogDirectory = "s3a://no-such-bucket/spark-events/"
		e := &EventLogs{Endpoints: store.endpoints(), Client: fake.NewClientset(good), Config: other, Namespace: ns, Wait: time.Second}
		s, _ := e.Check(context.Background(), id())
		if s.Severity != doctor.Failure || !strings.Contains(s.Problem, "no-such-bucket does not exist") {
			t.Errorf("%+v", s)
		}
	})
	t.Run("store unreachable", func(t *testing.T) {
		e := &EventLogs{Endpoints: Loopback{}, Client: fake.NewClientset(good), Config: cfg, Namespace: ns, Wait: time.Second}
		s, _ := e.Check(context.Background(), id())
		if s.Severity != doctor.Failure || !strings.Contains(s.Problem, "reach the object store") {
			t.Errorf("%+v", s)
		}
	})
	t.Run("external store", func(t *testing.T) {
		// spec.objectStore.type external: the endpoint is dialled as
		// configured, without a port-forward (Endpoints knows no address).
		ext := cfg
		ext.Spec.ObjectStore.Type, ext.Spec.ObjectStore.Endpoint = config.ObjectStoreExternal, store.url
		a := id()
		store.put(t, a, eventLogLine)
		e := &EventLogs{Endpoints: Loopback{}, Client: fake.NewClientset(good), Config: ext, Namespace: ns, Wait: time.Second}
		if s, where := e.Check(context.Background(), a); s.Severity != doctor.OK || !strings.HasSuffix(where, "/"+a) {
			t.Errorf("%+v %q", s, where)
		}
	})
	t.Run("clean", func(t *testing.T) {
		a := id()
		store.put(t, a, eventLogLine)
		store.put(t, "eventlog_v2_"+a+"/events_1_"+a, eventLogLine)
		keep := id()
		store.put(t, keep, eventLogLine)
		e := &EventLogs{Endpoints: store.endpoints(), Client: fake.NewClientset(good), Config: cfg, Namespace: ns}
		s := e.Delete(context.Background(), a)
		if s.Severity != doctor.OK || !strings.Contains(s.Check, "2 objects") {
			t.Errorf("%+v", s)
		}
		if store.exists(t, a) || store.exists(t, "eventlog_v2_"+a+"/events_1_"+a) || !store.exists(t, keep) || !store.exists(t, ".keep") {
			t.Error("--clean deleted the wrong objects")
		}
	})
}
