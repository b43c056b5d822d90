package generator

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
)

// A workload like the ones of gen v0.1.0 (no ephemeral storage, no
// NetworkPolicy, one probe reused for liveness and readiness) fails the
// render-time check with every problem named; the fixed defaults pass it.
func TestCheckWorkloads(t *testing.T) {
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}}
	bad := &appsv1.Deployment{}
	bad.Name, bad.Namespace = "old", "spark-operator"
	bad.Spec.Template.Labels = map[string]string{"app": "old"}
	bad.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", ReadinessProbe: probe, LivenessProbe: probe}}
	err := checkWorkloads([]component.Component{{Files: []component.File{{Objects: []any{bad}}}}})
	if err == nil {
		t.Fatal("an old-style Deployment passed")
	}
	for _, want := range []string{"no NetworkPolicy selects its pods", "requests no ephemeral-storage", "no ephemeral-storage limit", "identical readiness and liveness probes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}

	impatient := *probe
	impatient.FailureThreshold = 1
	bad.Spec.Template.Spec.Containers[0].LivenessProbe = &impatient
	if err := checkWorkloads([]component.Component{{Files: []component.File{{Objects: []any{bad}}}}}); err == nil || !strings.Contains(err.Error(), "gives up sooner") {
		t.Errorf("a liveness probe stricter than readiness passed: %v", err)
	}

	for _, cfg := range []config.Platform{config.Default(), withSeaweedFS()} {
		cfg.Complete()
		components, err := Components(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkWorkloads(components); err != nil {
			t.Errorf("%s: %v", cfg.Spec.ObjectStore.Type, err)
		}
	}
}

func withSeaweedFS() config.Platform {
	cfg := config.Default()
	cfg.Spec.ObjectStore.Type = config.ObjectStoreSeaweedFS
	return cfg
}
