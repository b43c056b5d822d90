//go:build linux

package sparkoperator

import (
	"os"
	"testing"

	"github.com/rdspark/gen/internal/testnetns"
)

// webhookPodIP is the address the webhook "pod" has: it is added to loopback
// inside the test's network namespace and named in the webhook Service's
// EndpointSlice. Any non-loopback address would do; this one looks like a
// pod address and is outside the test cluster's Service range (10.0.0.0/24).
const webhookPodIP = "10.244.0.2"

func TestMain(m *testing.M) { os.Exit(testnetns.Main(m, webhookPodIP)) }
