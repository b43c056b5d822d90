//go:build linux

package testnode

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/bootstrap/kube"
	"github.com/rdspark/gen/internal/testcluster"
)

const nodeTestObjects = `
apiVersion: v1
kind: Namespace
metadata: {name: node}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: node}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.invalid/web:1}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: node}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: registry.invalid/db:1}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: node}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: registry.invalid/once:1}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: node}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: node}
spec:
  rules:
  - host: web.example.invalid
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
`

// TestNodeSimulator checks that every kind the simulator handles reaches
// kstatus Current through status writes the real API server accepts, and
// that a new Deployment generation is observed again.
func TestNodeSimulator(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane; skipped under -short")
	}
	c := testcluster.Start(t)
	cfg := c.RestConfig()
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	StartNode(t, cs)

	objs, err := kube.DecodeYAML([]byte(nodeTestObjects))
	if err != nil {
		t.Fatal(err)
	}
	a, err := kube.NewApplier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.ApplyStaged(ctx, objs, kube.Options{Force: true}, 1); err != nil {
		t.Fatal(err)
	}
	waitCurrent := func(objs []*unstructured.Unstructured) {
		t.Helper()
		for _, o := range objs {
			var last kube.Status
			err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
				live, err := a.Get(ctx, o)
				if err != nil || live == nil {
					return false, err
				}
				last = kube.StatusOf(live)
				return last.Ready(), nil
			})
			if err != nil {
				t.Errorf("%s: not Current: %s %s", kube.Ref(o), last.Status, last.Message)
			}
		}
	}
	waitCurrent(objs)

	// A new pod template is a new generation: Progressing until observed.
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.invalid/web:2"}]}}}}`)
	d, err := dyn.Resource(deployments).Namespace("node").Patch(ctx, "web", "application/strategic-merge-patch+json", patch, metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.GetGeneration() != 2 {
		t.Fatalf("Deployment generation %d after a template change, want 2", d.GetGeneration())
	}
	waitCurrent(objs[1:2])
	live, err := cs.AppsV1().Deployments("node").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if live.Status.ObservedGeneration != 2 || live.Status.AvailableReplicas != 3 {
		t.Errorf("Deployment status after the change: %+v", live.Status)
	}
}
