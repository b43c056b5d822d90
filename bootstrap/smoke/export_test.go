//go:build linux

package smoke

// ApplyTree is applyTree for the package's external tests.
var ApplyTree = applyTree
