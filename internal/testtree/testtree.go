// Package testtree renders a config into a test's temporary folder and
// builds its folders with kustomize, the two steps every test that runs the
// rendered objects starts with (integration, object store, Spark Operator,
// smoke). The tree is written by the same writer as gen render, so what the
// tests read is what users commit.
package testtree

import (
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/rdspark/gen/bootstrap/kustomize"
	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/tree"
)

// Write renders cfg and writes the tree into a temporary folder of the test,
// which it returns.
func Write(t testing.TB, cfg config.Platform) string {
	t.Helper()
	out := t.TempDir()
	WriteTo(t, cfg, out)
	return out
}

// WriteTo renders cfg and writes the tree into out.
func WriteTo(t testing.TB, cfg config.Platform, out string) {
	t.Helper()
	ms, err := generator.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.Write(out, generator.Roots, ms); err != nil {
		t.Fatal(err)
	}
}

// Build builds the folder of the tree at out named by elem (like
// "overlays", "rancher-desktop", "minio") and returns its objects.
func Build(t testing.TB, out string, elem ...string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := kustomize.BuildFS(filesys.MakeFsOnDisk(), filepath.Join(append([]string{out}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}
