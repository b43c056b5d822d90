//go:build linux

package smoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/bootstrap/smoke"
	"github.com/rdspark/gen/cmd/gen/app"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// TestGenSmokeCommand runs `gen smoke` as a user would, against a real API
// server where the CRDs and the job namespace exist but no operator runs:
// the report names "submitted" as the state that did not come, exit 1, the
// SparkApplication it created is gone afterwards, and -o json carries the
// same report.
func TestGenSmokeCommand(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)
	cfg.Complete()
	dir := t.TempDir()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gen.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	gen := func(args ...string) (string, string, error) {
		args = append(args, "--config", filepath.Join(dir, "gen.yaml"), "--kubeconfig", cluster.KubeconfigPath(), "--context", "testcluster")
		var out, errOut bytes.Buffer
		err := app.Run(args, app.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		return out.String(), errOut.String(), err
	}

	// Nothing installed: the CRD is missing, and the report says so.
	stdout, stderr, err := gen("smoke", "--timeout", "5s")
	var exit *app.ExitError
	if !errors.As(err, &exit) || exit.Code != 1 || !strings.Contains(stdout, "✗ submitted") || !strings.Contains(stdout, "CRDs are not installed") {
		t.Errorf("no CRDs: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}

	smoke.ApplyTree(t, cluster.RestConfig(), cfg, "namespaces", "spark-crds", "spark-jobs")
	start := time.Now()
	stdout, stderr, err = gen("smoke", "--timeout", "3s", "-o", "json")
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("no operator: %v\n%s\n%s", err, stdout, stderr)
	}
	var r smoke.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("-o json: %v\n%s", err, stdout)
	}
	if r.Passed || len(r.Steps) != 2 || r.Steps[0].Name != smoke.StepSubmitted || r.Steps[0].Severity != "failure" ||
		!strings.Contains(r.Steps[0].Cause, "did not pick it up") || r.Steps[1].Name != smoke.StepCleanup || len(r.URLs) != 3 {
		t.Errorf("report %+v", r)
	}
	if !strings.HasPrefix(r.Application, "spark-pi-smoke-") || r.Namespace != cfg.Spec.SparkOperator.JobNamespaces[0] {
		t.Errorf("application %s/%s", r.Namespace, r.Application)
	}
	// Progress went to stderr, the report alone to stdout.
	if !strings.Contains(stderr, "✗ submitted") || strings.Contains(stdout, "✗") || strings.Contains(stderr, "\r") {
		t.Errorf("stderr:\n%s\nstdout:\n%s", stderr, stdout)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("--timeout 3s took %s", took)
	}
	dyn := dynamic.NewForConfigOrDie(cluster.RestConfig())
	list, err := dyn.Resource(smoke.SparkApplications).Namespace(r.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("SparkApplications left: %v %v", list, err)
	}

	if _, _, err := gen("smoke", "-o", "yaml"); err == nil || !strings.Contains(err.Error(), "not text or json") {
		t.Errorf("-o yaml: %v", err)
	}
	help, _, err := gen("smoke", "--help")
	if err != nil || !strings.Contains(help, "--timeout") || !strings.Contains(help, "--clean") || !strings.Contains(help, "port-forward") {
		t.Errorf("--help: %v\n%s", err, help)
	}
}
