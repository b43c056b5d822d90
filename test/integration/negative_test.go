//go:build linux

package integration

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// TestChecksCanFail shows that the checks TestTreeAppliesOnARealAPIServer
// relies on really reject bad objects on this API server: an unknown field
// (in a core kind and in an Argo CD Application, which is what keeps gen's
// small Application structs honest), and a privileged pod in a restricted
// namespace.
func TestChecksCanFail(t *testing.T) {
	cluster := testcluster.Start(t)
	applier := newApplier(t, cluster.RestConfig())
	ctx := context.Background()
	overlay, _ := renderedTree(t, upstreamtest.Config(t), "rancher-desktop")
	var first []*unstructured.Unstructured
	var deployment, app *unstructured.Unstructured
	for _, o := range overlay {
		switch {
		case isFirst(o):
			first = append(first, o)
		case o.GetKind() == "Deployment" && o.GetName() == "minio":
			deployment = o.DeepCopy()
		case o.GetKind() == "Application" && o.GetName() == "minio":
			app = o.DeepCopy()
		}
	}
	if _, err := applier.ApplyStaged(ctx, first, kube.Options{}, 1); err != nil {
		t.Fatal(err)
	}

	t.Run("unknown field in a Deployment", func(t *testing.T) {
		containers, _, _ := unstructured.NestedSlice(deployment.Object, "spec", "template", "spec", "containers")
		containers[0].(map[string]any)["imagePullPolicyy"] = "Always"
		unstructured.SetNestedSlice(deployment.Object, containers, "spec", "template", "spec", "containers")
		_, err := applier.ApplyOne(ctx, deployment, kube.Options{DryRun: true})
		wantError(t, err, "imagePullPolicyy")
	})
	t.Run("unknown field in an Argo CD Application", func(t *testing.T) {
		unstructured.SetNestedField(app.Object, true, "spec", "syncPolicy", "automated", "pruneAll")
		_, err := applier.ApplyOne(ctx, app, kube.Options{DryRun: true})
		wantError(t, err, "pruneAll")
	})
	t.Run("wrong type in an Argo CD Application", func(t *testing.T) {
		good := app.DeepCopy()
		unstructured.RemoveNestedField(good.Object, "spec", "syncPolicy", "automated", "pruneAll")
		unstructured.SetNestedField(good.Object, "2", "spec", "syncPolicy", "retry", "backoff", "factor")
		_, err := applier.ApplyOne(ctx, good, kube.Options{DryRun: true})
		wantError(t, err, "factor")
	})
	t.Run("privileged pod in a restricted namespace", func(t *testing.T) {
		pod := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "privileged", "namespace": "minio"},
			"spec": map[string]any{"containers": []any{map[string]any{
				"name": "c", "image": "busybox:1.36",
				"securityContext": map[string]any{"privileged": true},
			}}},
		}}
		_, err := applier.ApplyOne(ctx, pod, kube.Options{DryRun: true})
		wantError(t, err, "violates PodSecurity", "restricted")
	})
}
