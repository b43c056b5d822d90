package manifest

import (
	"bytes"
	"encoding/json"
	"testing"

	"sigs.k8s.io/yaml"
)

// FuzzFastYAML: on any JSON document, the fast encoder either declines
// (Marshal then uses sigs.k8s.io/yaml) or writes exactly the bytes
// sigs.k8s.io/yaml writes. The fuzzer mutates the JSON, so it explores
// keys, nesting, numbers and strings the rendered trees never hold.
func FuzzFastYAML(f *testing.F) {
	for _, seed := range []string{
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"y"}},"data":{"k":"v"}}`,
		`{"a":[1,2,{"b":true,"c":null}],"d":"yes","e":"0x1F","f":"","g":"-","h":" lead"}`,
		`{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]}],"n":-12,"m":1e3}`,
		`{"long":"a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p q r s t u v w x y z","k:ey":"v#x","~":"@a"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Decoded as Marshal decodes an object: numbers stay json.Number.
		var doc map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return
		}
		got, ok := fastYAML(doc)
		if !ok {
			return
		}
		want, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatalf("fast encoder wrote %q for a document sigs.k8s.io/yaml refuses: %v", got, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("fast encoder differs from sigs.k8s.io/yaml on %s:\nfast:\n%s\nsigs.k8s.io/yaml:\n%s", data, got, want)
		}
	})
}
