package config

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

const hostileHeader = "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\n"

// billionLaughs is the classic: levels of anchors, each a list of width
// aliases of the one before (width^levels strings in the end).
func billionLaughs(levels, width int) string {
	var b strings.Builder
	b.WriteString(hostileHeader + "spec:\n  git:\n    revision: &a0 lol\nx:\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "  x%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", i-1), width), ","))
	}
	return b.String()
}

// byteBomb stays under go-yaml's own alias guard (which counts nodes, not
// bytes): one long anchored string, a padding list of small nodes to keep
// the alias ratio low, and aliases of the long string. Before checkDocument,
// bomb(500<<10, 1000, 100000) (700 KB, under MaxFileSize) made Load allocate
// 1.5 GiB and take 5 s before it failed on an unknown field.
func byteBomb(size, aliases, padding int) string {
	var b strings.Builder
	b.WriteString(hostileHeader + "spec:\n  git:\n    revision: &s " + strings.Repeat("x", size) + "\n")
	b.WriteString("pad: [" + strings.Repeat("0,", padding) + "0]\n")
	b.WriteString("bomb: [" + strings.Repeat("*s,", aliases) + "*s]\n")
	return b.String()
}

// TestHostileConfigsFailFastAndBounded: each input gets an error that names
// the file and says what is wrong, within a time and memory budget far
// below what the input could cost if expanded.
func TestHostileConfigsFailFastAndBounded(t *testing.T) {
	cases := []struct {
		name, data string
		want       []string
	}{
		{"billion laughs", billionLaughs(9, 10), []string{"gen.yaml", "aliases expand"}},
		{"billion laughs, wide", billionLaughs(6, 60), []string{"gen.yaml", "aliases expand"}},
		{"byte bomb under go-yaml's alias guard", byteBomb(500<<10, 1000, 100000), []string{"gen.yaml", "aliases expand"}},
		{"many aliases of a short string", byteBomb(100<<10, 4000, 100000), []string{"gen.yaml", "aliases expand"}},
		{"alias cycle", hostileHeader + "spec: &a\n  x: *a\n", []string{"gen.yaml"}},
		{"deep nesting (flow)", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), []string{"gen.yaml", "depth"}},
		{"deep nesting (block)", strings.Repeat("a: {", 100000) + strings.Repeat("}", 100000), []string{"gen.yaml", "depth"}},
		{"a file over the limit", hostileHeader + "# " + strings.Repeat("x", MaxFileSize) + "\n", []string{"gen.yaml", "more than"}},
		{"non-UTF-8 value", hostileHeader + "spec:\n  minio:\n    bucket: \xff\xfe\n", []string{"gen.yaml", "UTF-8"}},
		{"non-UTF-8 key", hostileHeader + "spec:\n  \xc3\x28: 1\n", []string{"gen.yaml", "UTF-8"}},
		{"UTF-16 with a byte order mark", "\xff\xfea\x00p\x00i\x00V\x00", []string{"gen.yaml:1", "mapping", "UTF-8"}},
		{"NUL byte", hostileHeader + "spec: {}\x00\n", []string{"gen.yaml", "control characters"}},
		{"duplicate key", hostileHeader + "spec:\n  minio:\n    bucket: a\n    bucket: b\n", []string{"gen.yaml", "line 6", `"bucket" already`}},
		{"duplicate top-level key", hostileHeader + "spec: {}\nspec: {}\n", []string{"gen.yaml", "line 4", `"spec" already`}},
		{"duplicate key in a list element", hostileHeader + "spec:\n  environments:\n  - name: a\n    name: b\n", []string{"gen.yaml", "line 6", `"name" already`}},
		{"a second document", hostileHeader + "---\napiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n  minio:\n    bucket: other\n", []string{"gen.yaml:3", "second YAML document"}},
		{"a list, not a mapping", "- apiVersion: gen.rdspark.dev/v1alpha1\n", []string{"gen.yaml:1", "mapping", "list"}},
		{"a huge number", hostileHeader + "spec:\n  sparkOperator:\n    controllerWorkers: 99999999999999999999999999\n", []string{"gen.yaml", "controllerWorkers"}},
		{"a very long value", hostileHeader + "spec:\n  minio:\n    bucket: " + strings.Repeat("b", 900<<10) + "\n", []string{"gen.yaml", "spec.minio.bucket"}},
	}
	// Budgets: generous for a loaded 2-core CI machine; the bombs cost
	// seconds and gigabytes without the guard.
	const maxTime, maxAlloc = 3 * time.Second, 128 << 20
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Load("gen.yaml", []byte(tc.data))
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if err == nil {
				t.Fatal("accepted")
			}
			// Validation errors quote the bad value whole, so the message
			// grows with the input, but never beyond it by much.
			msg := err.Error()
			if len(msg) > len(tc.data)+4096 {
				t.Errorf("error is %d bytes long, for %d bytes of input", len(msg), len(tc.data))
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if took > maxTime || alloc > maxAlloc {
				t.Errorf("took %s and allocated %d MiB (budget %s, %d MiB)", took, alloc>>20, maxTime, maxAlloc>>20)
			}
			t.Logf("%d bytes in: %s, %d KiB allocated: %s", len(tc.data), took.Round(time.Millisecond), alloc>>10, firstLine(msg))
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 160 {
		return line[:160] + "…"
	}
	return line
}

// TestAnchorsWithinTheLimitStillWork: aliases are fine YAML; only their
// blow-up is refused.
func TestAnchorsWithinTheLimitStillWork(t *testing.T) {
	cfg, err := Load("gen.yaml", []byte(hostileHeader+`spec:
  environments:
  - name: a
    domain: a.example.com
    resources:
      minio: &small {requests: {cpu: 50m, memory: 256Mi}, limits: {cpu: 500m, memory: 768Mi}}
  - name: b
    domain: b.example.com
    resources:
      minio: *small
      historyServer: *small
`))
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Spec.Environments[1].Resources.HistoryServer; r == nil || r.Limits.Memory != "768Mi" {
		t.Errorf("alias not applied: %+v", r)
	}
}
