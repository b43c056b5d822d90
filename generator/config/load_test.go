package config

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestEmptyFileGivesDefaults(t *testing.T) {
	for _, data := range []string{"", "\n  \n", "# only a comment\n", "null\n"} {
		got, err := Load("gen.yaml", []byte(data))
		if err != nil {
			t.Fatalf("Load(%q): %v", data, err)
		}
		want := Default()
		want.Complete()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Load(%q) is not the completed default", data)
		}
	}
}

func TestDefaultsAreCompletedAndValid(t *testing.T) {
	cfg := Default()
	cfg.Complete()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config is invalid: %v", err)
	}
	env := cfg.Spec.Environments[0]
	if env.Domain != "192.168.64.3.sslip.io" {
		t.Errorf("default domain = %q, want 192.168.64.3.sslip.io", env.Domain)
	}
	if got := cfg.Spec.HistoryServer.LogDirectory; got != "s3a://spark/spark-events/" {
		t.Errorf("default log directory = %q", got)
	}
}

func TestPartialConfigKeepsOtherDefaults(t *testing.T) {
	cfg, err := Load("gen.yaml", []byte(`apiVersion: gen.rdspark.dev/v1alpha1
kind: Platform
spec:
  minio:
    bucket: logs
    resources:
      limits:
        memory: 2Gi
  sparkOperator:
    webhook: false
`))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if cfg.Spec.MinIO.Bucket != "logs" || cfg.Spec.MinIO.Image != d.Spec.MinIO.Image {
		t.Errorf("bucket/image = %q/%q", cfg.Spec.MinIO.Bucket, cfg.Spec.MinIO.Image)
	}
	if cfg.Spec.MinIO.Resources.Limits.Memory != "2Gi" || cfg.Spec.MinIO.Resources.Limits.CPU != d.Spec.MinIO.Resources.Limits.CPU {
		t.Errorf("resources = %+v, want memory limit 2Gi and the default CPU limit", cfg.Spec.MinIO.Resources)
	}
	if cfg.Spec.SparkOperator.Webhook {
		t.Error("webhook: false was not applied over the default true")
	}
	if cfg.Spec.HistoryServer.LogDirectory != "s3a://logs/spark-events/" {
		t.Errorf("log directory %q does not follow the bucket", cfg.Spec.HistoryServer.LogDirectory)
	}
	if len(cfg.Spec.Environments) != 1 || cfg.Spec.Environments[0].Name != "rancher-desktop" {
		t.Errorf("environments = %+v, want the default rancher-desktop", cfg.Spec.Environments)
	}
}

func TestEnvironmentListReplacesDefaultsElementWise(t *testing.T) {
	cfg, err := Load("gen.yaml", []byte(`apiVersion: gen.rdspark.dev/v1alpha1
kind: Platform
spec:
  environments:
  - name: cluster
    domain: spark.example.com
  - name: rancher-desktop
    nodeIP: 192.168.5.15
`))
	if err != nil {
		t.Fatal(err)
	}
	c, rd := cfg.Spec.Environments[0], cfg.Spec.Environments[1]
	if c.IngressClassName != "traefik" || c.StorageClassName != "" || c.Resources.MinIO != nil || c.ReconciliationTimeout != "180s" {
		t.Errorf("cluster environment got laptop defaults: %+v", c)
	}
	if rd.Domain != "192.168.5.15.sslip.io" || rd.StorageClassName != "local-path" || rd.Resources.MinIO == nil {
		t.Errorf("rancher-desktop environment = %+v, want laptop defaults with its own node IP", rd)
	}
}

func TestStrictDecodingNamesFieldAndLine(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"misspelt field", "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  minio:\n    storge: 10Gi\n",
			[]string{"gen.yaml:5:", "spec.minio.storge", "unknown field"}},
		{"unknown field in a list element", "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  environments:\n  - name: a\n    nodeIp: 1.2.3.4\n",
			[]string{"gen.yaml:6:", "spec.environments[0].nodeIp", "unknown field"}},
		{"duplicate key", "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  minio:\n    bucket: a\n    bucket: b\n",
			[]string{"gen.yaml", "bucket", "already"}},
		{"wrong type", "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  sparkOperator:\n    controllerWorkers: many\n",
			[]string{"gen.yaml:5:", "spec.sparkOperator.controllerWorkers", "must be int"}},
		{"wrong kind", "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Cluster\n",
			[]string{"apiVersion/kind", "Cluster"}},
		{"not yaml", "spec: [unclosed\n", []string{"gen.yaml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("gen.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestTooLargeFileIsRefused(t *testing.T) {
	_, err := Load("gen.yaml", make([]byte, MaxFileSize+1))
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("err = %v", err)
	}
}

func TestDefaultYAMLIsTheDefaultConfigAndDocumentsEveryField(t *testing.T) {
	out, err := DefaultYAML()
	if err != nil {
		t.Fatal(err) // also fails when a field has no description
	}
	got, err := Load("default", out)
	if err != nil {
		t.Fatalf("gen config default output does not load: %v", err)
	}
	want := Default()
	want.Complete()
	if !reflect.DeepEqual(got, want) {
		t.Error("gen config default output does not load back as the defaults")
	}
	// Every key line is preceded by its comment line.
	lines := strings.Split(string(out), "\n")
	for i, line := range lines {
		trimmed := strings.TrimLeft(strings.TrimPrefix(strings.TrimSpace(line), "- "), " ")
		if i == 0 || trimmed == "" || strings.HasPrefix(trimmed, "#") || !strings.Contains(trimmed, ":") {
			continue
		}
		prev := strings.TrimSpace(lines[i-1])
		if !strings.HasPrefix(prev, "#") && !strings.HasPrefix(prev, "- #") && !strings.HasPrefix(strings.TrimSpace(line), "- ") {
			t.Errorf("line %d %q has no comment above it", i+1, line)
		}
	}
}

func TestFieldDocsHaveNoStaleEntries(t *testing.T) {
	raw, err := yaml.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := yaml.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				paths[p] = true
				walk(p, child)
			}
		case []any:
			for _, child := range t {
				walk(prefix+"[]", child)
			}
		}
	}
	walk("", generic)
	// List fields that are empty by default are documented by their example.
	for p, example := range Examples() {
		raw, err := yaml.Marshal(example)
		if err != nil {
			t.Fatal(err)
		}
		var list any
		if err := yaml.Unmarshal(raw, &list); err != nil {
			t.Fatal(err)
		}
		walk(p, list)
	}
	for p := range FieldDocs {
		if !paths[p] {
			t.Errorf("FieldDocs documents %q, which the config does not have", p)
		}
	}
}

// TestSparkVersionMustBeASupportedRelease: the image is rendered from the
// table of supported Spark lines, so any other version is a config error
// that names its field and the supported lines.
func TestSparkVersionMustBeASupportedRelease(t *testing.T) {
	for _, v := range []string{"3.5.8", "3.4.1", "4.1.0", "2.4.8", `"4.0"`, "4.0.0-preview2", "v4.0.4", "latest", `""`} {
		_, err := Load("gen.yaml", []byte("apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  spark:\n    version: "+v+"\n"))
		if err == nil {
			t.Errorf("spark version %s accepted", v)
			continue
		}
		for _, want := range []string{"spec.spark.version", "supported: 4.0.x", "Spark Operator 2.5.2"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("spark version %s: error %q does not contain %q", v, err, want)
			}
		}
	}
	for _, v := range []string{"4.0.0", "4.0.1", "4.0.4"} {
		cfg, err := Load("gen.yaml", []byte("apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  spark:\n    version: "+v+"\n"))
		if err != nil {
			t.Errorf("spark version %s: %v", v, err)
		} else if cfg.Spec.Spark.Image != Default().Spec.Spark.Image {
			t.Errorf("spark version %s lost the default image %q", v, cfg.Spec.Spark.Image)
		}
	}
}

func TestSparkImageIsARepositoryWithoutTag(t *testing.T) {
	cases := map[string]string{
		"ghcr.io/rdspark/spark-s3a:3.5.8":                             "gen derives the tag",
		"ghcr.io/rdspark/spark-s3a@sha256:" + strings.Repeat("a", 64): "gen derives the tag",
		"GHCR.io/Rdspark/Spark":                                       "image reference",
		"":                                                            "image reference",
	}
	for image, want := range cases {
		_, err := Load("gen.yaml", []byte("apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  spark:\n    image: \""+image+"\"\n"))
		if err == nil || !strings.Contains(err.Error(), "spec.spark.image") || !strings.Contains(err.Error(), want) {
			t.Errorf("spark image %q: err = %v, want spec.spark.image and %q", image, err, want)
		}
	}
	if _, err := Load("gen.yaml", []byte("apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  spark:\n    image: registry.example.com:5000/team/spark\n")); err != nil {
		t.Errorf("a registry with a port: %v", err)
	}
}

// TestHistoryServerImageMovedToSpark: the History Server's image and tag are
// now derived from spec.spark; an old config says so through strict decoding.
func TestHistoryServerImageMovedToSpark(t *testing.T) {
	for _, f := range []string{"image: ghcr.io/rdspark/spark-s3a", "tag: 3.5.8"} {
		_, err := Load("gen.yaml", []byte("apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  historyServer:\n    "+f+"\n"))
		key, _, _ := strings.Cut(f, ":")
		if err == nil || !strings.Contains(err.Error(), "gen.yaml:5: spec.historyServer."+key+": unknown field") {
			t.Errorf("historyServer.%s: err = %v", key, err)
		}
	}
}
