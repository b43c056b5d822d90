//go:build linux

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// smokeApp is a tiny kustomize folder: a Namespace, a ConfigMap and a
// Deployment (which only turns Healthy once the real scheduler has bound its
// two pods to the test node, the kubelet stand-in has reported them ready
// and the real deployment controller has counted them).
var smokeApp = map[string]string{
	"kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- namespace.yaml
- configmap.yaml
- deployment.yaml
`,
	"namespace.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: smoke
`,
	"configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: smoke-config
  namespace: smoke
data:
  greeting: hello
`,
	"deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: smoke
  namespace: smoke
spec:
  replicas: 2
  selector:
    matchLabels: {app: smoke}
  template:
    metadata:
      labels: {app: smoke}
    spec:
      containers:
      - name: app
        image: registry.invalid/smoke:1
`,
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestArgoCDSyncsAnApplication proves the harness: a real Argo CD, driven by
// Git over HTTP, syncs a kustomize folder into the test cluster, reports it
// Healthy once its Deployment's pods are scheduled and "run" (testnode's
// kubelet mode), and prunes what a
// later commit removes.
func TestArgoCDSyncsAnApplication(t *testing.T) {
	began := time.Now()
	env := Start(t)
	env.InstallArgoCD(t)
	env.StartArgoCD(t, ArgoCDOptions{})
	t.Logf("stack up in %s", time.Since(began).Round(time.Millisecond))

	src := t.TempDir()
	writeFiles(t, src, smokeApp)
	repo := env.Git.NewRepo(t, "smoke")
	rev1 := repo.CommitDir(t, src, "smoke", "smoke: namespace, config map, deployment")

	created := time.Now()
	env.CreateApp(t, Application("smoke", repo.URL, "smoke"))
	st := env.WaitApp(t, "smoke", 2*time.Minute, func(s AppState) bool { return s.SyncedHealthy(rev1) })
	t.Logf("Application created -> Synced and Healthy at %.8s in %s (%s)", rev1, time.Since(created).Round(time.Millisecond), st)

	ctx := context.Background()
	dep, err := env.Client.AppsV1().Deployments("smoke").Get(ctx, "smoke", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Argo CD 3 tracks what it manages with an annotation by default.
	if got, want := dep.Annotations["argocd.argoproj.io/tracking-id"], "smoke:apps/Deployment:smoke/smoke"; got != want {
		t.Errorf("Deployment smoke/smoke tracking-id annotation = %q, want %q", got, want)
	}
	if dep.Status.AvailableReplicas != 2 {
		t.Errorf("Deployment smoke/smoke: %d available replicas, want 2 (the deployment controller's count of the pods the kubelet reports ready)", dep.Status.AvailableReplicas)
	}
	if _, err := env.Client.CoreV1().ConfigMaps("smoke").Get(ctx, "smoke-config", metav1.GetOptions{}); err != nil {
		t.Fatalf("ConfigMap smoke/smoke-config not synced: %v", err)
	}

	// Remove the ConfigMap from Git; a hard refresh makes the controller
	// notice now rather than at its next reconciliation.
	if err := os.Remove(filepath.Join(src, "configmap.yaml")); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, src, map[string]string{"kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- namespace.yaml
- deployment.yaml
`})
	committed := time.Now()
	rev2 := repo.CommitDir(t, src, "smoke", "smoke: drop the config map")
	env.RefreshApp(t, "smoke")
	env.WaitGone(t, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "smoke", "smoke-config", 2*time.Minute)
	t.Logf("commit -> ConfigMap pruned in %s", time.Since(committed).Round(time.Millisecond))
	st = env.WaitApp(t, "smoke", time.Minute, func(s AppState) bool { return s.SyncedHealthy(rev2) })
	t.Logf("commit -> Synced and Healthy at %.8s in %s", rev2, time.Since(committed).Round(time.Millisecond))

	// Pruning removed only what left Git.
	if _, err := env.Client.AppsV1().Deployments("smoke").Get(ctx, "smoke", metav1.GetOptions{}); err != nil {
		t.Errorf("Deployment smoke/smoke after the prune: %v", err)
	}
	if _, err := env.Client.CoreV1().ConfigMaps("smoke").Get(ctx, "smoke-config", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap smoke/smoke-config after the prune: %v, want NotFound", err)
	}
}
