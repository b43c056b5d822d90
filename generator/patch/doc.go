// Package patch builds the kustomize patches that overlays apply to bases:
// typed JSON 6902 operations and strategic-merge objects, encoded
// deterministically so an overlay's bytes depend only on the config.
package patch
