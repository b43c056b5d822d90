package manifest

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"
)

// The fast encoder writes the block YAML that sigs.k8s.io/yaml (go-yaml v2
// behind it) writes for a decoded JSON value, byte for byte, for the values
// gen renders most: mappings, sequences, integers, booleans and one-line
// strings (folded at the line width the way go-yaml folds plain ones). It
// returns false for anything it cannot be sure of (a multi-line or
// non-integer value, a quoted string that could be folded), and Marshal then
// uses sigs.k8s.io/yaml for that object. A thousand tenants are mostly small
// RBAC, quota and NetworkPolicy objects: this path makes rendering them
// several times cheaper without changing a byte, which the tests check on
// every document of the trees of several configs
// (TestFastYAMLMatchesOnEveryRenderedObject), on random long strings and keys,
// and on the scalars YAML reads as something else.

// bestWidth is go-yaml's line width: a scalar with spaces that runs past it is
// folded at the first space after it.
const bestWidth = 80

// maxSimpleKey is the longest key go-yaml writes as a simple key ("k: v");
// longer keys use the "? k" form. Keys are kept well below it.
const maxSimpleKey = 100

type fastEncoder struct {
	buf bytes.Buffer
}

// sizeHint is the buffer a document starts with: most of gen's objects fit.
const sizeHint = 2048

// fastYAML encodes a decoded JSON document (a mapping at the top).
func fastYAML(doc map[string]any) ([]byte, bool) {
	if len(doc) == 0 {
		return nil, false
	}
	var e fastEncoder
	e.buf.Grow(sizeHint)
	if !e.mapping(doc, 0, false) {
		return nil, false
	}
	return e.buf.Bytes(), true
}

func (e *fastEncoder) indent(n int) {
	for i := 0; i < n; i++ {
		e.buf.WriteByte(' ')
	}
}

// mapping writes the keys of m at column indent, sorted like go-yaml sorts
// them. inline means the first key continues the current line (after "- ").
func (e *fastEncoder) mapping(m map[string]any, indent int, inline bool) bool {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
	for i, k := range keys {
		if i > 0 || !inline {
			e.indent(indent)
		}
		key, ok := scalarText(k)
		if !ok || len(key) > maxSimpleKey {
			return false
		}
		e.buf.WriteString(key)
		e.buf.WriteByte(':')
		if !e.value(m[k], indent, indent+len(key)+2) {
			return false
		}
	}
	return true
}

// value writes v after a "key:" whose mapping is at column indent; column is
// where an inline scalar starts.
func (e *fastEncoder) value(v any, indent, column int) bool {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			e.buf.WriteString(" {}\n")
			return true
		}
		e.buf.WriteByte('\n')
		return e.mapping(t, indent+2, false)
	case []any:
		if len(t) == 0 {
			e.buf.WriteString(" []\n")
			return true
		}
		e.buf.WriteByte('\n')
		// go-yaml does not indent a sequence under its key.
		return e.sequence(t, indent, false)
	default:
		text, ok := scalar(v, column, indent+2)
		if !ok {
			return false
		}
		e.buf.WriteByte(' ')
		e.buf.WriteString(text)
		e.buf.WriteByte('\n')
		return true
	}
}

// sequence writes the items of s as "- item" at column indent.
func (e *fastEncoder) sequence(s []any, indent int, inline bool) bool {
	for i, item := range s {
		if i > 0 || !inline {
			e.indent(indent)
		}
		e.buf.WriteString("- ")
		switch t := item.(type) {
		case map[string]any:
			if len(t) == 0 {
				e.buf.WriteString("{}\n")
				continue
			}
			if !e.mapping(t, indent+2, true) {
				return false
			}
		case []any:
			if len(t) == 0 {
				e.buf.WriteString("[]\n")
				continue
			}
			if !e.sequence(t, indent+2, true) {
				return false
			}
		default:
			text, ok := scalar(item, indent+2, indent+2)
			if !ok {
				return false
			}
			e.buf.WriteString(text)
			e.buf.WriteByte('\n')
		}
	}
	return true
}

// scalar renders a JSON scalar that starts at column; a plain string that
// runs past the line width is folded at spaces onto lines indented by
// foldIndent, as go-yaml folds it. false when go-yaml could write it
// otherwise (a quoted string past the width, multi-line, or a float).
func scalar(v any, column, foldIndent int) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "null", true
	case bool:
		if t {
			return "true", true
		}
		return "false", true
	case json.Number:
		s := string(t)
		if s == "" || strings.ContainsAny(s, ".eE") {
			return "", false
		}
		return s, true
	case string:
		text, ok := scalarText(t)
		if !ok {
			return "", false
		}
		if strings.IndexByte(text, ' ') < 0 || column+len(text) <= bestWidth {
			return text, true
		}
		if text != t {
			// Quoted, with a space, past the width: go-yaml may fold it.
			return "", false
		}
		return fold(text, column, foldIndent), true
	default:
		return "", false
	}
}

// fold breaks a plain scalar the way go-yaml's emitter does: at the first
// single space after the line has passed the width, the space becomes a line
// break and the indentation.
func fold(s string, column, indent int) string {
	var b strings.Builder
	spaces := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if !spaces && column > bestWidth && (i+1 >= len(s) || s[i+1] != ' ') {
				b.WriteByte('\n')
				for j := 0; j < indent; j++ {
					b.WriteByte(' ')
				}
				column = indent
			} else {
				b.WriteByte(c)
				column++
			}
			spaces = true
			continue
		}
		b.WriteByte(c)
		column++
		spaces = false
	}
	return b.String()
}

// scalarText is how go-yaml writes the string s on one line: plain, or quoted
// where plain would read as another type or is not allowed. Strings that
// start with a letter and hold only letters, digits and ._/:=@+-*',() and
// spaces are plain unless they are one of YAML 1.1's booleans or nulls or
// hold ": " or " #"; so are quantities (250m, 32Gi); digit strings are
// double-quoted; go-yaml itself decides the rest.
func scalarText(s string) (string, bool) {
	if s == "" {
		// An empty plain scalar would read as null.
		return `""`, true
	}
	// go-yaml measures the line width in characters and escapes some
	// non-ASCII ones; this encoder counts bytes. Leave those to go-yaml
	// (found by FuzzFastYAML: a U+FFFD folded three columns early).
	if strings.ContainsAny(s, "\n\r") || !isASCII(s) {
		return "", false
	}
	if plainWord(s) {
		return s, true
	}
	// Digits only: an integer to YAML, so go-yaml double-quotes it.
	if allDigits(s) {
		return `"` + s + `"`, true
	}
	// A quantity like 250m or 32Gi, or a CIDR, is neither a number nor a date.
	if quantityPattern.MatchString(s) || cidrPattern.MatchString(s) {
		return s, true
	}
	out, err := yaml.Marshal(s)
	if err != nil {
		return "", false
	}
	text := strings.TrimSuffix(string(out), "\n")
	if text == "" || strings.ContainsAny(text, "\n") || strings.HasPrefix(text, "|") || strings.HasPrefix(text, ">") {
		return "", false
	}
	return text, true
}

func plainWord(s string) bool {
	last := s[len(s)-1]
	first := s[0]
	// A leading "-" is an indicator only before a space, and reads as a
	// number only before a digit or ".": "--flag" and "-flag" are plain.
	// ("---" starts a document: "--" must be followed by a letter.)
	dash := first == '-' && len(s) > 2 && (isASCIILetter(s[1]) || (s[1] == '-' && isASCIILetter(s[2])))
	if !(isASCIILetter(first) || first == '/' || dash) || last == ':' || last == ' ' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if isASCIILetter(c) || (c >= '0' && c <= '9') {
			continue
		}
		switch c {
		case '.', '_', '/', '=', '@', '+', '-', '\'', ',', '(', ')', '*':
			continue
		case ':':
			// ": " starts a mapping value.
			if s[i+1] == ' ' {
				return false
			}
			continue
		case ' ':
			// " #" starts a comment.
			if s[i+1] == '#' {
				return false
			}
			continue
		}
		return false
	}
	if len(s) <= 5 {
		switch strings.ToLower(s) {
		case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
			return false
		}
	}
	return true
}

// quantityPattern matches Kubernetes quantities with a unit other than E and Ei
// (1e3 reads as a float to YAML, and E is where that starts).
var quantityPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)$`)

// cidrPattern matches IPv4 CIDRs, and IPv6 ones that start with "::".
var cidrPattern = regexp.MustCompile(`^([0-9]{1,3}(\.[0-9]{1,3}){3}|::([0-9a-f]{1,4}(:[0-9a-f]{1,4})*)?)/[0-9]{1,3}$`)

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// keyLess orders mapping keys as go-yaml does: character by character, with
// runs of digits compared as numbers and letters before other characters.
func keyLess(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return runesLess(a, b, func(s string, i int) rune { return rune(s[i]) }, len(a), len(b))
	}
	ar, br := []rune(a), []rune(b)
	return runesLess(ar, br, func(r []rune, i int) rune { return r[i] }, len(ar), len(br))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// runesLess is keyLess over the characters of a and b, read with at.
func runesLess[S string | []rune](a, b S, at func(S, int) rune, na, nb int) bool {
	ar := func(i int) rune { return at(a, i) }
	br := func(i int) rune { return at(b, i) }
	for i := 0; i < na && i < nb; i++ {
		if ar(i) == br(i) {
			continue
		}
		al, bl := unicode.IsLetter(ar(i)), unicode.IsLetter(br(i))
		if al && bl {
			return ar(i) < br(i)
		}
		if al || bl {
			return bl
		}
		var an, bn int64
		if ar(i) == '0' || br(i) == '0' {
			// Inside a number that does not start with zeros, a zero digit
			// counts like any other.
			for j := i - 1; j >= 0 && unicode.IsDigit(ar(j)); j-- {
				if ar(j) != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		ai, bi := i, i
		for ; ai < na && unicode.IsDigit(ar(ai)); ai++ {
			an = an*10 + int64(ar(ai)-'0')
		}
		for ; bi < nb && unicode.IsDigit(br(bi)); bi++ {
			bn = bn*10 + int64(br(bi)-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar(i) < br(i)
	}
	return na < nb
}
