//go:build linux

package sparkoperator

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/rdspark/gen/bootstrap/smoke"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// TestSmokeSubmissionFailsThroughTheRealOperator runs gen smoke's flow
// (bootstrap/smoke.Run) against the real webhook and controller, set up as
// run does it: the API server admits gen smoke's SparkApplication through
// the real validating and mutating webhooks, the controller picks it up and
// gets as far as spark-submit, which is missing here (no Spark
// distribution). gen smoke must report the operator's own message as a
// failed submission, at "submitted", and delete its SparkApplication. Before
// the controller starts, a driver pod of gen smoke's application shows the
// webhook's injection of the S3 credentials env and the security context.
func TestSmokeSubmissionFailsThroughTheRealOperator(t *testing.T) {
	bin := operatorBinary(t)
	tr := renderTree(t, "")
	cfg := upstreamtest.Config(t) // what renderTree("") rendered
	cfg.Complete()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	p := startPlatform(ctx, t, tr)
	cluster, cs, dyn := p.cluster, p.cs, p.dyn
	webhookDep, controllerDep := p.webhook, p.controller

	var f findings
	webhook := startOperator(ctx, t, bin, cluster, cs, webhookDep, nil)
	mutating := flagValue(webhook.args, "mutating-webhook-name", "")
	validating := flagValue(webhook.args, "validating-webhook-name", "")
	ready := webhook.waitReady(ctx, &f) && waitFor(ctx, &f, "a caBundle in every webhook of "+mutating+" and "+validating, func() (bool, string) {
		m, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, mutating, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		v, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, validating, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, w := range m.Webhooks {
			if len(w.ClientConfig.CABundle) == 0 {
				return false, "no caBundle in " + w.Name
			}
		}
		for _, w := range v.Webhooks {
			if len(w.ClientConfig.CABundle) == 0 {
				return false, "no caBundle in " + w.Name
			}
		}
		return len(m.Webhooks) > 0 && len(v.Webhooks) > 0, ""
	}, webhook)
	if !ready {
		t.Fatalf("the webhook is not ready: %v", f)
	}

	// The webhook gives a driver pod of gen smoke's application (the
	// example, renamed and labelled) the S3 credentials env and the pod
	// security context of its driver spec, as it does for the example.
	probe, err := smoke.Application(cfg, smoke.UniqueName())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(probe)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	created, err := dyn.Resource(sparkApplications).Namespace(probe.Namespace).Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create gen smoke's SparkApplication through the webhook: %v", err)
	}
	checkDriverPodMutated(ctx, t, &f, cs, created)
	if err := dyn.Resource(sparkApplications).Namespace(probe.Namespace).Delete(ctx, probe.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, finding := range f {
		t.Error(finding)
	}

	sparkHome := filepath.Join(t.TempDir(), "spark-home-without-spark")
	if err := os.MkdirAll(sparkHome, 0o755); err != nil {
		t.Fatal(err)
	}
	controller := startOperator(ctx, t, bin, cluster, cs, controllerDep, []string{"SPARK_HOME=" + sparkHome})
	if !controller.waitReady(ctx, &f) {
		t.Fatalf("the controller is not ready: %v", f)
	}

	began := time.Now()
	var progress strings.Builder
	r, err := smoke.Run(ctx, cluster.RestConfig(), smoke.Options{
		Config: cfg, Environment: cfg.Spec.Environments[0].Name, Timeout: waitTimeout,
		Endpoints: smoke.Loopback{}, // never reached: the run stops at the submission
		Progress:  &progress, Poll: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	report, _ := json.MarshalIndent(r, "", "  ")
	t.Logf("gen smoke through the real operator, %s:\n%s\n%s", time.Since(began).Round(time.Millisecond), progress.String(), report)

	failed := r.Failed()
	sparkSubmit := filepath.Join(sparkHome, "bin", "spark-submit")
	if r.Passed || failed == nil || failed.Name != smoke.StepSubmitted ||
		!strings.Contains(failed.Problem, "submission failed") || !strings.Contains(failed.Problem, sparkSubmit) ||
		!strings.Contains(failed.Fix, "spark-operator-controller") {
		t.Errorf("want a failed submission naming %s, got %+v", sparkSubmit, failed)
	}
	if last := r.Steps[len(r.Steps)-1]; last.Name != smoke.StepCleanup || last.Severity != "ok" {
		t.Errorf("cleanup: %+v", last)
	}
	_, err = dyn.Resource(sparkApplications).Namespace(r.Namespace).Get(ctx, r.Application, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("gen smoke's SparkApplication %s/%s is still there: %v", r.Namespace, r.Application, err)
	}
	time.Sleep(eventSettle)
	for _, p := range []*operator{webhook, controller} {
		for _, line := range p.logLines(t) {
			if strings.Contains(strings.ToLower(line), "forbidden") {
				t.Errorf("%s log: %s", p.name, line)
			}
		}
	}
}
