package bootstrap

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
)

// kubeletMaxImages is how many images kubelet reports in node.status.images
// by default (--node-status-max-images): beyond it, a missing name proves nothing.
const kubeletMaxImages = 50

// SparkImageMissing returns, when the Spark + S3A image the History Server
// runs (image.Reference) is not among the images the nodes report, what to
// say about it; "" when a node has it or nothing can be said. The image is
// built on the laptop (make image), not pulled: a sync before the build
// leaves the History Server in ImagePullBackOff.
func SparkImageMissing(nodes []corev1.Node, cfg config.Platform) string {
	ref, err := image.Reference(cfg)
	if err != nil || len(nodes) == 0 {
		return ""
	}
	full := true // every node lists as many images as kubelet reports
	for _, n := range nodes {
		for _, img := range n.Status.Images {
			for _, name := range img.Names {
				if sameImage(name, ref) {
					return ""
				}
			}
		}
		full = full && len(n.Status.Images) >= kubeletMaxImages
	}
	msg := fmt.Sprintf("the History Server's image %s is not on the node: run make image before Argo CD syncs spark-history, or it waits in ImagePullBackOff (ignore this if a registry the node pulls from has it)", ref)
	if full {
		msg += fmt.Sprintf("; the node lists only %d images, so it may be there unlisted", kubeletMaxImages)
	}
	return msg
}

// sameImage compares image names the way the container runtime completes
// them: docker.io/ and docker.io/library/ may be left out.
func sameImage(a, b string) bool {
	return normalizeImage(a) == normalizeImage(b)
}

func normalizeImage(name string) string {
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || !(strings.ContainsAny(first, ".:") || first == "localhost") {
		name = "docker.io/" + name
	}
	if rest, ok := strings.CutPrefix(name, "docker.io/"); ok && !strings.Contains(rest, "/") {
		name = "docker.io/library/" + rest
	}
	return name
}
