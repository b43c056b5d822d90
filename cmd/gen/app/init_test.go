package app

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rdspark/gen/generator/config"
)

// TestInit: in a checkout with an SSH origin on a branch, gen init writes a
// gen.yaml that points at the repository over HTTPS and at the branch; gen
// render then renders from it; a second gen init refuses to overwrite it.
func TestInit(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q", "-b", "spark-platform"},
		{"remote", "add", "origin", "git@github.com:acme/data-platform.git"},
	} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Chdir(dir)

	// A rancher-desktop context whose API server is gone (a closed loopback
	// port): gen init says so and keeps the default node address, quickly.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: rd, cluster: {server: "https://`+dead+`"}}]
users: [{name: rd, user: {token: t}}]
contexts: [{name: rancher-desktop, context: {cluster: rd, user: rd}}]
current-context: rancher-desktop
`), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, stderr, err := runGen(t, "init", "--kubeconfig", kubeconfig)
	if err != nil {
		t.Fatalf("gen init: %v\n%s", err, stderr)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("gen init took %s with the cluster down", d)
	}
	if !strings.Contains(stderr, "! node address: not found") {
		t.Errorf("stderr does not say the node address was not found:\n%s", stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "gen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("gen.yaml", data)
	if err != nil {
		t.Fatalf("gen.yaml does not load: %v\n%s", err, data)
	}
	if cfg.Spec.Git.RepoURL != "https://github.com/acme/data-platform.git" || cfg.Spec.Git.Revision != "spark-platform" {
		t.Errorf("spec.git = %+v, want the origin as HTTPS and the branch", cfg.Spec.Git)
	}
	if !strings.Contains(string(data), "# "+config.FieldDocs["spec.git.repoURL"]) {
		t.Errorf("gen.yaml lacks the field descriptions of gen config default:\n%s", data)
	}

	// gen render reads it: the Applications point at the user's repository.
	if _, stderr, err := runGen(t, "render"); err != nil {
		t.Fatalf("gen render: %v\n%s", err, stderr)
	}
	var apps string
	for path, content := range snapshot(t, filepath.Join(dir, "overlays", "rancher-desktop", "root")) {
		apps += path + ":\n" + content
	}
	if !strings.Contains(apps, "https://github.com/acme/data-platform.git") || !strings.Contains(apps, "spark-platform") {
		t.Errorf("the root Application does not read the checkout's repository and branch:\n%s", apps)
	}

	// A second run refuses and leaves the file alone.
	_, _, err = runGen(t, "init", "--no-cluster")
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second gen init: err = %v, want a refusal", err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "gen.yaml")); string(again) != string(data) {
		t.Error("the second gen init changed gen.yaml")
	}
}
