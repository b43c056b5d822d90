// Package config is the typed configuration of a gen platform: the one file
// (gen.yaml, kind Platform) that everything in the rendered tree comes from.
//
// It owns the built-in defaults, strict decoding (an unknown or duplicate field
// is an error naming it and its line) and validation (every wrong value is an
// error naming its field path). It has no I/O beyond the bytes it is given.
package config
