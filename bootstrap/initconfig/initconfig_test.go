package initconfig

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rdspark/gen/generator/config"
)

// gitRepo makes a checkout on branch with origin as its origin remote.
func gitRepo(t *testing.T, branch, origin string) string {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q", "-b", branch},
		{"remote", "add", "origin", origin},
	} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return dir
}

func load(t *testing.T, path string) config.Platform {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, data)
	if err != nil {
		t.Fatalf("%s does not load: %v\n%s", path, err, data)
	}
	return cfg
}

func TestWriteFromTheCheckoutAndTheNode(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	dir := gitRepo(t, "feature/spark", "git@github.com:acme/platform.git")
	var out bytes.Buffer
	path, err := Write(context.Background(), Options{
		Dir: dir, Out: &out,
		NodeIP: func(context.Context) (string, error) { return "192.168.5.15", nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "gen.yaml") {
		t.Errorf("wrote %s, want gen.yaml in the checkout", path)
	}
	cfg := load(t, path)
	if got, want := cfg.Spec.Git.RepoURL, "https://github.com/acme/platform.git"; got != want {
		t.Errorf("repoURL = %s, want the origin's HTTPS form %s", got, want)
	}
	if got := cfg.Spec.Git.Revision; got != "feature/spark" {
		t.Errorf("revision = %s, want the current branch", got)
	}
	env := cfg.Spec.Environments[0]
	if env.NodeIP != "192.168.5.15" || env.Domain != "192.168.5.15.sslip.io" {
		t.Errorf("environment = %s at %s (%s), want the node's address", env.Name, env.NodeIP, env.Domain)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "git@github.com:acme/platform.git") || !strings.Contains(string(data), "--keep-ssh") {
		t.Errorf("gen.yaml does not say where repoURL came from:\n%s", data)
	}
	for _, want := range []string{"✓ repository: https://github.com/acme/platform.git", "✓ revision: feature/spark", "✓ node address: 192.168.5.15"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, out.String())
		}
	}
}

func TestWriteKeepsSSHWhenAsked(t *testing.T) {
	dir := gitRepo(t, "main", "ssh://git@gitlab.example.com:2222/acme/platform.git")
	path, err := Write(context.Background(), Options{Dir: dir, KeepSSH: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := load(t, path).Spec.Git.RepoURL; got != "ssh://git@gitlab.example.com:2222/acme/platform.git" {
		t.Errorf("repoURL = %s, want the SSH origin as it is", got)
	}
}

func TestWriteWithoutACluster(t *testing.T) {
	dir := gitRepo(t, "main", "https://github.com/acme/platform.git")
	var out bytes.Buffer
	path, err := Write(context.Background(), Options{
		Dir: dir, Out: &out,
		NodeIP: func(context.Context) (string, error) { return "", errors.New("connection refused") },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := load(t, path).Spec.Environments[0].NodeIP, config.DefaultEnvironment().NodeIP; got != want {
		t.Errorf("nodeIP = %s, want the default %s", got, want)
	}
	if !strings.Contains(out.String(), "! node address: not found (connection refused)") {
		t.Errorf("progress does not say the node address was not found:\n%s", out.String())
	}
}

func TestWriteRefusesToOverwrite(t *testing.T) {
	dir := gitRepo(t, "main", "https://github.com/acme/platform.git")
	path := filepath.Join(dir, "gen.yaml")
	const mine = "# my own config\n"
	if err := os.WriteFile(path, []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Write(context.Background(), Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("err = %v, want a refusal", err)
	}
	if data, _ := os.ReadFile(path); string(data) != mine {
		t.Errorf("gen.yaml was changed:\n%s", data)
	}
}

func TestWriteNeedsAnOriginAndABranch(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("git", "-C", dir, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if _, err := Write(context.Background(), Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "--repo-url") {
		t.Errorf("without origin: err = %v, want one naming --repo-url", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gen.yaml")); err == nil {
		t.Error("gen.yaml written although the command failed")
	}
	path, err := Write(context.Background(), Options{Dir: dir, RepoURL: "https://example.com/r.git", Revision: "v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := load(t, path); cfg.Spec.Git.RepoURL != "https://example.com/r.git" || cfg.Spec.Git.Revision != "v1.0.0" {
		t.Errorf("git = %+v, want the flags' values", cfg.Spec.Git)
	}
}

func TestNodeInternalIP(t *testing.T) {
	node := func(name string, addrs ...corev1.NodeAddress) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
	}
	ctx := context.Background()
	ip, err := NodeInternalIP(ctx, fake.NewClientset(node("lima-rancher-desktop",
		corev1.NodeAddress{Type: corev1.NodeHostName, Address: "lima-rancher-desktop"},
		corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.168.5.15"})))
	if err != nil || ip != "192.168.5.15" {
		t.Errorf("NodeInternalIP = %q, %v; want 192.168.5.15", ip, err)
	}
	if _, err := NodeInternalIP(ctx, fake.NewClientset()); err == nil {
		t.Error("no error for a cluster without nodes")
	}
	if _, err := NodeInternalIP(ctx, fake.NewClientset(node("n", corev1.NodeAddress{Type: corev1.NodeHostName, Address: "n"}))); err == nil {
		t.Error("no error for a node without an InternalIP")
	}
}
