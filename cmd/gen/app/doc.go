// Package app is the gen command line: one file per command, each filling an
// Options struct from flags and calling one library function. Run is what
// tests call; Main is what the binary calls.
package app
