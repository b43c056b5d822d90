package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// MaxFileSize bounds a config file; a platform config is a few KiB, so anything
// this large is a mistake (or an attack) and is refused before parsing.
const MaxFileSize = 1 << 20

// Load decodes a gen.yaml over the built-in defaults, fills in derived values
// and validates the result. name is used in error messages only. Empty data
// gives the defaults. Every error names the field (and line, where known).
func Load(name string, data []byte) (Platform, error) {
	cfg, err := Decode(name, data)
	if err != nil {
		return Platform{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Platform{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

// Decode is Load without validation: strict decoding over the defaults, then Complete.
func Decode(name string, data []byte) (Platform, error) {
	if len(data) > MaxFileSize {
		return Platform{}, fmt.Errorf("%s: file is %d bytes, more than the %d a config may have", name, len(data), MaxFileSize)
	}
	cfg := Default()
	if len(bytes.TrimSpace(data)) == 0 {
		cfg.Complete()
		return cfg, nil
	}
	// The YAML node tree gives line numbers and catches duplicate keys.
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return Platform{}, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := checkDocument(name, data, &doc); err != nil {
		return Platform{}, err
	}
	jsonData, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return Platform{}, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "error converting YAML to JSON: yaml: "))
	}
	if bytes.Equal(bytes.TrimSpace(jsonData), []byte("null")) {
		cfg.Complete()
		return cfg, nil
	}
	// Lists of structs are defaulted per element in Complete, after decoding,
	// so that a user's list never merges into the default list element-wise.
	cfg.Spec.Environments = nil
	strictErrs, err := kjson.UnmarshalStrict(jsonData, &cfg)
	if err != nil {
		return Platform{}, decodeError(name, &doc, err)
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, 0, len(strictErrs))
		for _, e := range strictErrs {
			msgs = append(msgs, strictError(name, &doc, e).Error())
		}
		return Platform{}, errors.New(strings.Join(msgs, "\n"))
	}
	if cfg.APIVersion != APIVersion || cfg.Kind != Kind {
		return Platform{}, fmt.Errorf("%s: apiVersion/kind: got %q/%q, want %s/%s", name, cfg.APIVersion, cfg.Kind, APIVersion, Kind)
	}
	if cfg.Spec.Environments == nil {
		cfg.Spec.Environments = []Environment{DefaultEnvironment()}
	}
	cfg.Complete()
	return cfg, nil
}

func strictError(name string, doc *yamlv3.Node, err error) error {
	fe, ok := err.(kjson.FieldError)
	if !ok {
		return fmt.Errorf("%s: %v", name, err)
	}
	path := fe.FieldPath()
	what := "unknown field"
	if strings.Contains(err.Error(), "duplicate field") {
		what = "duplicate field"
	}
	return fmt.Errorf("%s%s: %s: %s", name, lineSuffix(doc, path), path, what)
}

// decodeError turns a JSON type error (a string where a number belongs) into
// one that names the field path and line.
func decodeError(name string, doc *yamlv3.Node, err error) error {
	msg := err.Error()
	if m := typeErrorPattern.FindStringSubmatch(msg); m != nil {
		path := m[2]
		return fmt.Errorf("%s%s: %s: must be %s, not %s", name, lineSuffix(doc, path), path, m[3], m[1])
	}
	return fmt.Errorf("%s: %s", name, strings.TrimPrefix(msg, "json: "))
}

var typeErrorPattern = regexp.MustCompile(`cannot unmarshal (\S+) into Go struct field \S+?\.(\S+) of type (\S+)`)

func lineSuffix(doc *yamlv3.Node, path string) string {
	if line := Line(doc, path); line > 0 {
		return ":" + strconv.Itoa(line)
	}
	return ""
}

// Line finds the line of the key at a field path ("spec.environments[0].name")
// in a YAML document; 0 when the path is not in the document.
func Line(doc *yamlv3.Node, path string) int {
	node := doc
	if node.Kind == yamlv3.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	line := 0
	for _, seg := range splitPath(path) {
		switch {
		case seg.index >= 0:
			if node.Kind != yamlv3.SequenceNode || seg.index >= len(node.Content) {
				return line
			}
			node = node.Content[seg.index]
			line = node.Line
		default:
			if node.Kind != yamlv3.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(node.Content); i += 2 {
				if node.Content[i].Value == seg.key {
					line = node.Content[i].Line
					node = node.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return line
			}
		}
	}
	return line
}

type pathSegment struct {
	key   string
	index int
}

// splitPath splits "a.b[2].c" into a, b, [2], c.
func splitPath(path string) []pathSegment {
	var segs []pathSegment
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			open := strings.IndexByte(part, '[')
			if open < 0 {
				segs = append(segs, pathSegment{key: part, index: -1})
				break
			}
			if open > 0 {
				segs = append(segs, pathSegment{key: part[:open], index: -1})
			}
			end := strings.IndexByte(part, ']')
			if end < open {
				break
			}
			n, err := strconv.Atoi(part[open+1 : end])
			if err != nil {
				break
			}
			segs = append(segs, pathSegment{index: n})
			part = part[end+1:]
		}
	}
	return segs
}
