package generator_test

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/tree"
)

// Render is pure (the upstream files are referenced by URL, never fetched),
// so the default config needs no server here. hack/bench compares the same
// work against kustomize build; see BENCHMARKS.md.

func BenchmarkRender(b *testing.B) {
	cfg := config.Default()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := generator.Render(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderAndWrite is what gen render costs end to end. Each iteration
// writes into a fresh folder: writing the same tree again into one folder
// would find nothing changed and skip the writes.
func BenchmarkRenderAndWrite(b *testing.B) {
	cfg := config.Default()
	dir := b.TempDir()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ms, err := generator.Render(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tree.Write(filepath.Join(dir, strconv.Itoa(i)), generator.Roots, ms); err != nil {
			b.Fatal(err)
		}
	}
}
