// Package testcache names the folder where the build scripts under hack/
// put what the tests run (the control plane, Argo CD, the object stores, the
// Spark Operator, the upstream release files), so that every test looks
// where the build scripts write (their CACHE_ROOT): ${GEN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gen-test}.
package testcache

import (
	"os"
	"path/filepath"
)

// Env names the environment variable that moves the whole cache.
const Env = "GEN_TEST_CACHE"

// Dir is the cache root joined with elem.
func Dir(elem ...string) string {
	root := os.Getenv(Env)
	if root == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			cache = filepath.Join(os.Getenv("HOME"), ".cache")
		}
		root = filepath.Join(cache, "gen-test")
	}
	return filepath.Join(append([]string{root}, elem...)...)
}
