//go:build linux

package integration

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/bootstrap"
	"github.com/rdspark/gen/bootstrap/doctor"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/internal/testcluster"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// TestSparkImageOnTheNode: on a real API server, a Node whose status lists
// the images kubelet has: gen bootstrap's preflight and gen doctor say
// make image while the History Server's image is not among them, and stop
// once it is.
func TestSparkImageOnTheNode(t *testing.T) {
	cluster := testcluster.Start(t)
	cfg := upstreamtest.Config(t)
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
	completed := cfg
	completed.Complete()
	ref, err := image.Reference(completed)
	if err != nil {
		t.Fatal(err)
	}

	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "lima-rancher-desktop"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setImages := func(names ...string) {
		t.Helper()
		node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: completed.Spec.Environments[0].NodeIP}}
		node.Status.Images = nil
		for _, n := range names {
			node.Status.Images = append(node.Status.Images, corev1.ContainerImage{Names: []string{n}, SizeBytes: 100 << 20})
		}
		if node, err = cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(wantWarning bool) {
		t.Helper()
		var out bytes.Buffer
		o := bootstrapOptions(cluster, cfg, &out)
		o.DryRun = true
		if err := bootstrap.Run(ctx, o); err != nil {
			t.Fatalf("bootstrap --dry-run: %v\n%s", err, out.String())
		}
		warned := strings.Contains(out.String(), "make image") && strings.Contains(out.String(), ref)
		if warned != wantWarning {
			t.Errorf("bootstrap's preflight warned about %s: %v, want %v:\n%s", ref, warned, wantWarning, out.String())
		}
		findings, err := doctor.Run(ctx, cluster.RestConfig(), doctor.Options{Config: cfg, Environment: "rancher-desktop",
			LookupHost: func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		if wantWarning {
			wantFinding(t, findings, "Spark image on the node", doctor.Warning, "make image")
		} else {
			wantFinding(t, findings, "Spark image on the node", doctor.OK, "")
		}
	}

	setImages("docker.io/rancher/mirrored-pause:3.6", "docker.io/rancher/klipper-helm:v0.9.3-build20241008")
	check(true)
	setImages("docker.io/rancher/mirrored-pause:3.6", ref) // after make image
	check(false)
}
