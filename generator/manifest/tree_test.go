package manifest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/generator/manifest"
)

// TestFastYAMLMatchesOnEveryRenderedObject decodes every document of the
// trees of several configs (every store, tenants, TLS, replicas, a mirror)
// and encodes it with the fast encoder and with sigs.k8s.io/yaml: wherever
// the fast one answers, the bytes are the same.
func TestFastYAMLMatchesOnEveryRenderedObject(t *testing.T) {
	cluster, err := os.ReadFile("../../configs/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	configs := map[string]string{"default": "", "cluster": string(cluster)}
	for _, store := range []string{"minio", "seaweedfs"} {
		var tenants strings.Builder
		for i := 0; i < 30; i++ {
			fmt.Fprintf(&tenants, "  - name: team-%d\n    groups: [\"g:%d\", \"team %d\"]\n", i, i, i)
		}
		configs[store] = "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n" +
			"  images: {registryMirror: registry.example.com:5000/mirror}\n" +
			"  objectStore: {type: " + store + "}\n  tenants:\n" + tenants.String()
	}
	// Long names: descriptions and Argo CD policies past the line width.
	var long strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&long, "  - name: %s-%d\n", strings.Repeat("t", 60), i)
	}
	configs["long-names"] = "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  tenants:\n" + long.String()
	answered, total := 0, 0
	for name, src := range configs {
		cfg, err := config.Load(name, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		ms, err := generator.Render(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Path == image.DockerfilePath {
				continue
			}
			_, body, _ := strings.Cut(string(m.Content), "\n")
			for i, doc := range strings.Split(body, "\n---\n") {
				raw, err := yaml.YAMLToJSON([]byte(doc))
				if err != nil {
					t.Fatalf("%s/%s: %v", name, m.Path, err)
				}
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.UseNumber()
				var generic map[string]any
				if err := dec.Decode(&generic); err != nil {
					t.Fatal(err)
				}
				total++
				want, err := yaml.Marshal(generic)
				if err != nil {
					t.Fatal(err)
				}
				got, ok := manifest.FastYAML(generic)
				if !ok {
					if os.Getenv("GEN_DEBUG_FAST") != "" {
						t.Logf("fallback: %s/%s %v", name, m.Path, generic["kind"])
					}
					continue
				}
				answered++
				if !bytes.Equal(got, want) {
					t.Errorf("%s/%s document %d: the fast encoder differs:\n--- fast\n%s--- sigs.k8s.io/yaml\n%s", name, m.Path, i, got, want)
				}
			}
		}
	}
	t.Logf("the fast encoder answered %d of %d documents; sigs.k8s.io/yaml wrote the rest", answered, total)
	if answered*2 < total {
		t.Errorf("the fast encoder answered only %d of %d documents", answered, total)
	}
}
