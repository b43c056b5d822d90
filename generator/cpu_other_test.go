//go:build !unix

package generator_test

import "time"

// processCPU is not measured here; cpu-ns/tenant reads 0.
func processCPU() time.Duration { return 0 }
