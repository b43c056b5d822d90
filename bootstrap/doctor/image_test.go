package doctor

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
)

func TestSparkImageFinding(t *testing.T) {
	cfg := config.Default()
	cfg.Complete()
	ref, err := image.Reference(cfg)
	if err != nil {
		t.Fatal(err)
	}
	node := func(images ...string) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "lima-rancher-desktop"}}
		for _, i := range images {
			n.Status.Images = append(n.Status.Images, corev1.ContainerImage{Names: []string{i}})
		}
		return n
	}
	for name, tc := range map[string]struct {
		node *corev1.Node
		want Severity
	}{
		"missing": {node("docker.io/rancher/mirrored-pause:3.6"), Warning},
		"built":   {node(ref), OK},
	} {
		t.Run(name, func(t *testing.T) {
			d := &doctor{ctx: context.Background(), cs: fake.NewClientset(tc.node), cfg: cfg}
			d.sparkImage()
			if len(d.findings) != 1 || d.findings[0].Severity != tc.want {
				t.Fatalf("findings = %+v, want one %s", d.findings, tc.want)
			}
			if tc.want == Warning && (!strings.Contains(d.findings[0].Fix, "make image") || !strings.Contains(d.findings[0].Problem, ref)) {
				t.Errorf("finding does not name the image and make image: %+v", d.findings[0])
			}
		})
	}
}
