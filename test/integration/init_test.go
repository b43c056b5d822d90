//go:build linux

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/internal/testcluster"
)

// TestInitReadsTheNodeAddress: gen init asks the real API server for the
// node's InternalIP and writes it as the environment's nodeIP.
func TestInitReadsTheNodeAddress(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	cluster := testcluster.Start(t)
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cluster.RestConfig())
	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "lima-rancher-desktop"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: "lima-rancher-desktop"},
		{Type: corev1.NodeInternalIP, Address: "192.168.5.15"},
	}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"remote", "add", "origin", "git@github.com:acme/platform.git"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	_, stderr, code := gen(t, dir, cluster, "init")
	if code != 0 {
		t.Fatalf("gen init: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "✓ node address: 192.168.5.15") {
		t.Errorf("gen init does not report the node address:\n%s", stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "gen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("gen.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if env := cfg.Spec.Environments[0]; env.NodeIP != "192.168.5.15" || env.Domain != "192.168.5.15.sslip.io" {
		t.Errorf("environment %s: nodeIP %s, domain %s; want the node's InternalIP", env.Name, env.NodeIP, env.Domain)
	}
}
