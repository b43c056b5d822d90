package config_test

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
)

// FuzzLoad feeds arbitrary bytes to config.Load (strict decoding, defaults,
// validation). Whatever the input: Load never panics; an error names the
// file; a config it accepts is valid, loads the same twice, survives a
// marshal/load round trip unchanged, and renders without error (validation
// must catch every value the generator cannot render). The seeds
// (testdata/fuzz/FuzzLoad) are the default config, real configs, and the
// hostile inputs: alias bombs, deep nesting, duplicate keys, non-UTF-8,
// several documents, tags, wrong types, huge numbers.
func FuzzLoad(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Load("gen.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gen.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load accepted an invalid config: %v", err)
		}
		again, err := config.Load("gen.yaml", data)
		if err != nil || !reflect.DeepEqual(cfg, again) {
			t.Fatalf("a second Load differs (%v)", err)
		}
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("marshal an accepted config: %v", err)
		}
		back, err := config.Load("round-trip.yaml", out)
		if err != nil {
			t.Fatalf("an accepted config does not load back: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(cfg, back) {
			t.Fatalf("the round trip changed the config:\n%s", out)
		}
		if _, err := generator.Render(cfg); err != nil {
			t.Fatalf("Load accepted a config that does not render: %v", err)
		}
	})
}
