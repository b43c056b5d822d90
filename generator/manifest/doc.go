// Package manifest is the output unit of the generator: a file path in the
// tree and its bytes, plus the deterministic YAML encoding every component uses.
package manifest
