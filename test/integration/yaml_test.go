//go:build linux

package integration

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/rdspark/gen/bootstrap/kube"
)

func decodeYAML(t testing.TB, b []byte) []*unstructured.Unstructured {
	t.Helper()
	objs, err := kube.DecodeYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}
