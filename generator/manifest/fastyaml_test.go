package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// decode is what Marshal encodes: a JSON document decoded with UseNumber.
func decode(t *testing.T, doc string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFastYAMLMatchesSigsYAML: wherever the fast encoder answers, it answers
// exactly what sigs.k8s.io/yaml writes; the cases cover the shapes and the
// scalars (quoted, plain, folded, multi-line) go-yaml treats apart.
func TestFastYAMLMatchesSigsYAML(t *testing.T) {
	long := strings.Repeat("word ", 30)
	docs := []string{
		`{"a":1,"b":"x","c":true,"d":null,"e":{},"f":[],"g":{"h":[1,2]}}`,
		`{"list":[{"a":"1","b":{"c":"d"}},{},[],["x",["y","z"]],[{"k":"v","l":"w"}]]}`,
		`{"quoted":["5","1.5","true","True","yes","on","off","n","null","~","0x1f","1e3","1:20","2001-12-14",".inf","-","- a","? b",": c","#d","a #e","f:","g: h","*i","&j","!k","|l",">m","'n","\"o","%p","@q","` + "`r" + `"," s","t ","---","..."]}`,
		`{"plain":["ghcr.io/x/y:2.5.2","RELEASE.2025-09-07T16-13-09Z","8Gi","250m","-dir=/data","--namespaces=a,b","a,b","[x]","{y}","key=value","https://example.com/a?b=c","s3a://bucket/p/","0.0.0.0/0","::/0"]}`,
		`{"spaces":["a b","Tenant team-b: its repositories","` + long + `"],"key with space":"v","long":"` + long + `"}`,
		`{"multi":"a\nb\n","tab":"a\tb","unicode":"Grüße","float":0.5,"neg":-3}`,
		`{"a10":1,"a2":2,"a01":3,"a1":4,"B":5,"b":6,"_x":7,"1":8,"10":9,"2":10,"a.b":11,"a-b":12,"a/b":13,"aB":14,"ab":15,"a0":16,"a00":17,"a100":18}`,
		`{"metadata":{"labels":{"app.kubernetes.io/name":"x","app.kubernetes.io/component":"y","pod-security.kubernetes.io/enforce":"baseline","pod-security.kubernetes.io/enforce-version":"latest"}}}`,
	}
	answered := 0
	for _, doc := range docs {
		m := decode(t, doc)
		want, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := fastYAML(m)
		if !ok {
			continue
		}
		answered++
		if !bytes.Equal(got, want) {
			t.Errorf("fast encoder differs for %s:\n--- fast\n%s--- sigs.k8s.io/yaml\n%s", doc, got, want)
		}
	}
	if answered < 4 {
		t.Errorf("the fast encoder answered only %d of %d documents", answered, len(docs))
	}
	// Scalars one by one, each in a mapping and in a sequence.
	scalars := []string{
		"-", "--", "---", "----a", "--a", "-- a", "-1", "-.5", "-a", "--a=b", "-a b", "- a", "/", "/a/b",
		"/a: b", "0.0.0.0/0", "10.0.0.0/8", "999.1.1.1/99", "::/0", "::1/128", "::ffff:0:0/96", "0",
		"007", "08", "123456789012345678901234567890", "250m", "32Gi", "1.5Gi", "1e3", "1E3", "2Ei",
		"0x1Fm", "a*b", "*a", "a b*", "a b", "a  b", "a #b", "a# b", "a: b c", "a:b c", "it's",
		"f(x), y", "a b ", "5", "true", "yes", "a: b", "#x", "ok", "x:", "-x", "- x", " lead", "trail ",
		"2.5.2", "0755", "1_000", "+1", ".5", "Y", "NULL", "<<", "=", "a'b", `a"b`, "a\\b", "é",
	}
	for _, s := range scalars {
		for _, doc := range []map[string]any{{"k": s}, {"k": []any{s}}, {s: "v"}} {
			want, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := fastYAML(doc); ok && !bytes.Equal(got, want) {
				t.Errorf("%q: fast %q, sigs.k8s.io/yaml %q", s, got, want)
			}
		}
	}
}

func TestKeyLessIsGoYAMLOrder(t *testing.T) {
	keys := []any{"a10", "a2", "a01", "a1", "B", "b", "_x", "1", "10", "2", "a.b", "a-b", "a/b", "aB", "ab", "a0", "a00", "a100", "x9y", "x10y", "app.kubernetes.io/name", "app.kubernetes.io/component"}
	m := map[string]any{}
	for _, k := range keys {
		m[k.(string)] = json.Number("1")
	}
	want, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := fastYAML(m)
	if !ok || !bytes.Equal(got, want) {
		t.Errorf("key order differs:\n--- fast (%v)\n%s--- sigs.k8s.io/yaml\n%s", ok, got, want)
	}
}

// TestFastYAMLFoldsLikeGoYAML: long plain strings of random words, as values
// at several depths and as sequence items, fold exactly where go-yaml folds them.
func TestFastYAMLFoldsLikeGoYAML(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	words := []string{"a", "tenant", "spark-applications", "p,", "proj:tenant-team-0001:members,", "*,", "allow", "x/*", "applications", "namespace", "averyveryveryveryveryverylongwordwithoutanyspaceatallreallylongindeed"}
	answered := 0
	for i := 0; i < 2000; i++ {
		n := 1 + rng.Intn(30)
		parts := make([]string, n)
		for j := range parts {
			parts[j] = words[rng.Intn(len(words))]
		}
		sep := " "
		if rng.Intn(10) == 0 {
			sep = "  "
		}
		s := strings.Join(parts, sep)
		key := strings.Repeat("k", 1+rng.Intn(20))
		var doc map[string]any
		switch rng.Intn(4) {
		case 0:
			doc = map[string]any{key: s}
		case 1:
			doc = map[string]any{"spec": map[string]any{key: s}}
		case 2:
			doc = map[string]any{"spec": map[string]any{"roles": []any{map[string]any{key: []any{s, "x"}}}}}
		default:
			doc = map[string]any{"a": map[string]any{"b": map[string]any{"c": []any{s}}}}
		}
		want, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := fastYAML(doc)
		if !ok {
			continue
		}
		answered++
		if !bytes.Equal(got, want) {
			t.Fatalf("folding differs for %q:\n--- fast\n%s--- sigs.k8s.io/yaml\n%s", s, got, want)
		}
	}
	if answered < 1000 {
		t.Errorf("the fast encoder answered only %d of 2000 documents", answered)
	}
}

// TestKeyLessRandomKeys: random keys of letters and punctuation with an
// optional number at the end (the shape of Kubernetes field names and label
// keys) sort as go-yaml sorts them. Keys that mix digits and letters more
// freely have no total order under go-yaml's rule ("1A" < "9" < "111." <
// "1A"), so its own output then depends on map order; gen has no such keys.
func TestKeyLessRandomKeys(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	alphabet := []rune("aAbz.-/_é")
	for i := 0; i < 300; i++ {
		m := map[string]any{}
		for j := 0; j < 12; j++ {
			k := make([]rune, 1+rng.Intn(6))
			for n := range k {
				k[n] = alphabet[rng.Intn(len(alphabet))]
			}
			key := string(k)
			if rng.Intn(2) == 0 {
				key += fmt.Sprint(rng.Intn(120))
			}
			m[key] = json.Number("1")
		}
		want, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := fastYAML(m); ok && !bytes.Equal(got, want) {
			t.Fatalf("key order differs:\n--- fast\n%s--- sigs.k8s.io/yaml\n%s", got, want)
		}
	}
}
