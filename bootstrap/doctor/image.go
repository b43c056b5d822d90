package doctor

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rdspark/gen/bootstrap"
)

// sparkImage: the History Server's image is built on the laptop (make image),
// not pulled; the node's image list says whether it is there before the pod
// is stuck in ImagePullBackOff.
func (d *doctor) sparkImage() {
	const check = "Spark image on the node"
	nodes, err := d.cs.CoreV1().Nodes().List(d.ctx, metav1.ListOptions{})
	if err != nil {
		d.warn(check, "cannot list nodes: "+err.Error(), "", "")
		return
	}
	if len(nodes.Items) == 0 {
		return // no node to ask (the API server check says why)
	}
	if msg := bootstrap.SparkImageMissing(nodes.Items, d.cfg); msg != "" {
		d.warn(check, msg, "the image is built locally and nobody has run make image for this spec.spark yet",
			"make image (then, if the History Server already waits in ImagePullBackOff: kubectl -n spark-history rollout restart deployment/spark-history)")
		return
	}
	d.ok(check)
}
