package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yamlv3 "go.yaml.in/yaml/v3"
)

// checkDocument refuses what strict decoding alone lets through:
//
//   - Aliases that blow a small file up ("billion laughs"): each alias repeats
//     its anchor's node, and the YAML-to-JSON step expands them all. go-yaml's
//     own guard counts nodes, not bytes, so 700 KB of anchored text and
//     aliases expanded to 1.5 GiB of memory before an error. The expanded
//     size is measured here on the parsed node tree, where aliases are still
//     references, and bounded like the file itself (MaxFileSize).
//   - A second YAML document after ---: decoding reads only the first, so
//     whatever follows would be ignored without a word.
//   - A document that is not a mapping (a list, a string: a UTF-16 file
//     reads as one), which decoding reports in Go's words, not the user's.
func checkDocument(name string, data []byte, doc *yamlv3.Node) error {
	top := doc
	if top.Kind == yamlv3.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if top.Kind == yamlv3.SequenceNode || (top.Kind == yamlv3.ScalarNode && top.Tag != "!!null") {
		return fmt.Errorf("%s:%d: the config must be a mapping (apiVersion, kind, spec), not a %s; is the file YAML in UTF-8?", name, top.Line, map[yamlv3.Kind]string{yamlv3.SequenceNode: "list", yamlv3.ScalarNode: "single value"}[top.Kind])
	}
	if size, aliases := expandedSize(doc, MaxFileSize); aliases && size > MaxFileSize {
		return fmt.Errorf("%s: anchors and aliases expand the document to more than %d bytes, the most a config may have", name, MaxFileSize)
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var next yamlv3.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if i > 0 && !emptyDocument(&next) {
			return fmt.Errorf("%s:%d: a second YAML document (after ---): a config is one document; merge them or keep one", name, next.Line)
		}
	}
}

// expandedSize is the size of doc with every alias replaced by its anchor's
// node (scalar bytes plus one per node), counted until it passes limit, and
// whether doc has an alias at all.
func expandedSize(doc *yamlv3.Node, limit int) (size int, aliases bool) {
	stack := []*yamlv3.Node{doc}
	for len(stack) > 0 && size <= limit {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == nil {
			continue
		}
		size += len(n.Value) + 1
		if n.Kind == yamlv3.AliasNode {
			aliases = true
			stack = append(stack, n.Alias)
			continue
		}
		stack = append(stack, n.Content...)
	}
	return size, aliases
}

func emptyDocument(n *yamlv3.Node) bool {
	if n.Kind == yamlv3.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n.Kind == 0 || (n.Kind == yamlv3.ScalarNode && n.Tag == "!!null")
}
