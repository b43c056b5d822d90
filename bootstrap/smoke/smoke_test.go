package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rdspark/gen/bootstrap/doctor"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/sparkoperator"
)

// A Spark-on-Kubernetes application id: "spark-" and a UUID without dashes.
const appID = "spark-0f3c2a9d8e7b4c6a9b1d2e3f4a5b6c7d"

func TestIsEventLog(t *testing.T) {
	for name, want := range map[string]bool{
		appID:                      true, // a finished single-file log
		appID + ".inprogress":      true,
		appID + ".lz4":             true, // spark.eventLog.compress
		appID + ".zstd.inprogress": true,
		appID + "_1":               true, // an attempt (YARN; harmless here)
		"eventlog_v2_" + appID + "/events_1_" + appID:  true, // rolling logs
		"eventlog_v2_" + appID + "/appstatus_" + appID: true,
		appID + "0":                           false, // another id that starts alike
		"eventlog_v2_" + appID + "0/events_1": false,
		"other/" + appID:                      false,
		".keep":                               false,
		"":                                    false,
	} {
		if got := IsEventLog(name, appID); got != want {
			t.Errorf("IsEventLog(%q) = %v, want %v", name, got, want)
		}
	}
	if IsEventLog(appID, "") {
		t.Error("an empty application id matches")
	}
}

func TestPickPrefersAFinishedLog(t *testing.T) {
	p := "spark-events/"
	cases := []struct {
		keys     []string
		found    string
		complete bool
	}{
		{[]string{p + appID + ".inprogress"}, p + appID + ".inprogress", false},
		{[]string{p + appID + ".inprogress", p + appID}, p + appID, true},
		{[]string{p + "eventlog_v2_" + appID + "/appstatus_" + appID + ".inprogress", p + "eventlog_v2_" + appID + "/events_1_" + appID}, p + "eventlog_v2_" + appID + "/", false},
		{[]string{p + "eventlog_v2_" + appID + "/appstatus_" + appID, p + "eventlog_v2_" + appID + "/events_1_" + appID}, p + "eventlog_v2_" + appID + "/", true},
		{nil, "", false},
	}
	for _, c := range cases {
		found, complete := pick(c.keys, p, appID)
		if found != c.found || complete != c.complete {
			t.Errorf("pick(%v) = %q, %v; want %q, %v", c.keys, found, complete, c.found, c.complete)
		}
	}
}

func TestLocation(t *testing.T) {
	for dir, want := range map[string][2]string{
		"s3a://spark-logs/spark-events/": {"spark-logs", "spark-events/"},
		"s3a://spark-logs/a/b":           {"spark-logs", "a/b/"},
		"s3a://spark-logs":               {"spark-logs", ""},
	} {
		b, p, err := Location(dir)
		if err != nil || b != want[0] || p != want[1] {
			t.Errorf("Location(%q) = %q, %q, %v", dir, b, p, err)
		}
	}
	for _, bad := range []string{"s3://b/p", "/tmp/events", "s3a:///p"} {
		if _, _, err := Location(bad); err == nil {
			t.Errorf("Location(%q): no error", bad)
		}
	}
}

func TestServiceOf(t *testing.T) {
	for raw, want := range map[string]Service{
		"http://minio.minio.svc.cluster.local:9000": {"minio", "minio", 9000},
		"http://seaweedfs.minio.svc:8333":           {"minio", "seaweedfs", 8333},
		"http://x.y.svc.cluster.local":              {"y", "x", 80},
	} {
		got, ok := serviceOf(raw)
		if !ok || got != want {
			t.Errorf("serviceOf(%q) = %+v, %v; want %+v", raw, got, ok, want)
		}
	}
	for _, ext := range []string{"https://s3.eu-west-1.amazonaws.com", "http://192.168.1.5:9000", "http://a.b.c.svc:1"} {
		if s, ok := serviceOf(ext); ok {
			t.Errorf("serviceOf(%q) = %+v, want not a Service", ext, s)
		}
	}
}

// TestApplicationIsTheExample: the smoke job is the example of examples/,
// renamed and labelled, and nothing else changes (the example's maps are
// not modified either).
func TestApplicationIsTheExample(t *testing.T) {
	cfg := config.Default()
	cfg.Complete()
	example, err := sparkoperator.ExampleApplication(cfg)
	if err != nil {
		t.Fatal(err)
	}
	app, err := Application(cfg, "spark-pi-smoke-abc123")
	if err != nil {
		t.Fatal(err)
	}
	if app.Name != "spark-pi-smoke-abc123" || app.Namespace != cfg.Spec.SparkOperator.JobNamespaces[0] {
		t.Errorf("name %s/%s", app.Namespace, app.Name)
	}
	for what, labels := range map[string]map[string]string{"metadata": app.Labels, "driver": app.Spec.Driver.Labels, "executor": app.Spec.Executor.Labels} {
		if labels[LabelInstance] != app.Name || labels[LabelManagedBy] != ManagedBy {
			t.Errorf("%s labels %v", what, labels)
		}
	}
	if example.Spec.Driver.Labels[LabelInstance] != "" {
		t.Error("Application changed the example's label map")
	}
	// Apart from the labels added, the spec is the example's.
	app.Spec.Driver.Labels, app.Spec.Executor.Labels = example.Spec.Driver.Labels, example.Spec.Executor.Labels
	if !reflect.DeepEqual(app.Spec, example.Spec) {
		t.Error("the smoke application's spec differs from the example's")
	}
	if a, b := UniqueName(), UniqueName(); a == b || !strings.HasPrefix(a, "spark-pi-smoke-") || len(a) != len("spark-pi-smoke-")+6 {
		t.Errorf("UniqueName: %q, %q", a, b)
	}
}

// historyServer answers /api/v1/applications with apps, in the shape of
// Spark's REST API (ApplicationInfo with its attempts).
func historyServer(t *testing.T, apps func() []map[string]any) (*httptest.Server, Loopback) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/applications" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(apps())
	}))
	t.Cleanup(srv.Close)
	return srv, Loopback{HistoryService.String(): srv.URL}
}

// sparkApp is an entry as the History Server lists it.
func sparkApp(id, name string, completed bool) map[string]any {
	return map[string]any{
		"id": id, "name": name,
		"attempts": []map[string]any{{
			"startTime": "2026-11-29T18:00:00.000GMT", "endTime": "2026-11-29T18:01:00.000GMT",
			"lastUpdated": "2026-11-29T18:01:00.000GMT", "duration": 60000, "sparkUser": "spark",
			"completed": completed, "appSparkVersion": "4.0.4",
			"startTimeEpoch": 1795975200000, "endTimeEpoch": 1795975260000, "lastUpdatedEpoch": 1795975260000,
		}},
	}
}

func TestHistoryCheck(t *testing.T) {
	other := sparkApp("spark-1111", "Spark Pi", true)
	cases := []struct {
		name   string
		apps   []map[string]any
		passes bool
		says   string
	}{
		{"listed", []map[string]any{other, sparkApp(appID, "Spark Pi", true)}, true, "lists " + appID},
		{"not listed", []map[string]any{other}, false, "lists 1 applications, not " + appID},
		{"empty", []map[string]any{}, false, "lists 0 applications"},
		{"not completed", []map[string]any{sparkApp(appID, "Spark Pi", false)}, false, "listed but not completed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ep := historyServer(t, func() []map[string]any { return c.apps })
			s := (&History{Endpoints: ep, Wait: 300 * time.Millisecond, Poll: 50 * time.Millisecond}).Check(context.Background(), appID)
			if passed := s.Severity == doctor.OK; passed != c.passes {
				t.Fatalf("passed %v, want %v: %+v", passed, c.passes, s)
			}
			text := s.Check + " " + s.Problem
			if !strings.Contains(text, c.says) {
				t.Errorf("step %q does not say %q", text, c.says)
			}
			if !c.passes && (s.Cause == "" || s.Fix == "") {
				t.Errorf("a failure without cause or fix: %+v", s)
			}
		})
	}
	t.Run("listed late", func(t *testing.T) {
		start := time.Now()
		_, ep := historyServer(t, func() []map[string]any {
			if time.Since(start) < 200*time.Millisecond {
				return nil
			}
			return []map[string]any{sparkApp(appID, "Spark Pi", true)}
		})
		if s := (&History{Endpoints: ep, Wait: 5 * time.Second, Poll: 50 * time.Millisecond}).Check(context.Background(), appID); s.Severity != doctor.OK {
			t.Errorf("%+v", s)
		}
	})
	t.Run("server error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "java.io.FileNotFoundException: s3a://spark-logs/spark-events", http.StatusInternalServerError)
		}))
		defer srv.Close()
		s := (&History{Endpoints: Loopback{HistoryService.String(): srv.URL}, Wait: 100 * time.Millisecond, Poll: 50 * time.Millisecond}).Check(context.Background(), appID)
		if s.Severity != doctor.Failure || !strings.Contains(s.Problem, "500") || !strings.Contains(s.Problem, "FileNotFoundException") {
			t.Errorf("%+v", s)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		s := (&History{Endpoints: Loopback{}, Wait: 100 * time.Millisecond}).Check(context.Background(), appID)
		if s.Severity != doctor.Failure || !strings.Contains(s.Problem, "reach the History Server") {
			t.Errorf("%+v", s)
		}
	})
}

func TestPrintAndJSON(t *testing.T) {
	r := Report{
		Namespace: "spark-jobs", Application: "spark-pi-smoke-abc123", ApplicationID: appID,
		Steps: []Step{
			ok(StepSubmitted, time.Now()),
			fail(StepDriverRunning, time.Now(), "pod x: ErrImageNeverPull", "the image is not there", "make image"),
		},
		URLs: []URL{{"Argo CD", "http://argocd.example"}},
	}
	var out bytes.Buffer
	if n := Print(&out, r); n != 1 {
		t.Errorf("Print counted %d failures", n)
	}
	for _, want := range []string{"✓ submitted", "✗ driver running: pod x: ErrImageNeverPull", "likely cause: the image is not there", "fix: make image", "http://argocd.example", appID} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"step":"driver running"`, `"check":"driver running"`, `"severity":"failure"`, `"fix":"make image"`, `"seconds":`, `"applicationID":"` + appID + `"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	if f := r.Failed(); f == nil || f.Check != StepDriverRunning {
		t.Errorf("Failed() = %+v", f)
	}
}
