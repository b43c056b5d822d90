package bootstrap

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/rdspark/gen/bootstrap/progress"
	"github.com/rdspark/gen/bootstrap/tree"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
)

func nodeWithImages(names ...string) corev1.Node {
	n := laptopNode()
	for _, name := range names {
		n.Status.Images = append(n.Status.Images, corev1.ContainerImage{Names: []string{name}, SizeBytes: 1 << 20})
	}
	return n
}

func TestSparkImageMissing(t *testing.T) {
	cfg := config.Default()
	cfg.Complete()
	ref, err := image.Reference(cfg)
	if err != nil {
		t.Fatal(err)
	}
	others := []string{"docker.io/rancher/mirrored-pause:3.6", "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"}
	if msg := SparkImageMissing([]corev1.Node{nodeWithImages(others...)}, cfg); !strings.Contains(msg, ref) || !strings.Contains(msg, "make image") {
		t.Errorf("image missing: %q, want a message naming %s and make image", msg, ref)
	}
	if msg := SparkImageMissing([]corev1.Node{nodeWithImages(append(others, ref)...)}, cfg); msg != "" {
		t.Errorf("image there: %q, want nothing", msg)
	}
	if msg := SparkImageMissing(nil, cfg); msg != "" {
		t.Errorf("no nodes: %q, want nothing", msg)
	}
	var many []string
	for i := range kubeletMaxImages {
		many = append(many, fmt.Sprintf("docker.io/library/img%d:1", i))
	}
	if msg := SparkImageMissing([]corev1.Node{nodeWithImages(many...)}, cfg); !strings.Contains(msg, "unlisted") {
		t.Errorf("a full image list: %q, want a hedge", msg)
	}
	// An image the runtime reports in its completed form.
	cfg.Spec.Spark.Image = "spark-s3a"
	short, _ := image.Reference(cfg)
	if msg := SparkImageMissing([]corev1.Node{nodeWithImages("docker.io/library/" + short)}, cfg); msg != "" {
		t.Errorf("%s reported as docker.io/library/%s: %q, want a match", short, short, msg)
	}
}

// Preflight warns, naming make image, before anything is applied.
func TestPreflightWarnsAboutTheSparkImage(t *testing.T) {
	cfg := config.Default()
	cfg.Complete()
	env, _ := cfg.Environment("rancher-desktop")
	ref, _ := image.Reference(cfg)
	rendered, err := tree.New(cfg, env.Name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rendered.Budget()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		node corev1.Node
		warn bool
	}{
		"missing": {nodeWithImages("docker.io/rancher/mirrored-pause:3.6"), true},
		"built":   {nodeWithImages(ref), false},
	} {
		t.Run(name, func(t *testing.T) {
			api := startFakeAPIServer(t, tc.node)
			restCfg := &rest.Config{Host: api.URL}
			cs := kubernetes.NewForConfigOrDie(restCfg)
			var out bytes.Buffer
			if err := preflight(context.Background(), restCfg, cs, cfg, env, b, progress.New(&out, false, false)); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(out.String(), "make image"); got != tc.warn {
				t.Errorf("warned = %v, want %v:\n%s", got, tc.warn, out.String())
			}
		})
	}
}
