package config

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// JVM sizing rules. A JVM whose heap may grow past its container's memory
// limit is killed by the kernel, not by Java: the pod restarts with
// OOMKilled and nothing in the application's log says why. These rules keep
// every JVM gen starts inside its container.

// History Server (a Spark daemon). spark-class starts daemons with
// -Xmx$SPARK_DAEMON_MEMORY, 1g when unset (Spark's spark-env.sh.template and
// the launcher's SparkClassCommandBuilder). gen sets it from the container's
// memory limit, leaving a quarter for metaspace, code cache, thread stacks
// and direct buffers.
const (
	// HistoryHeapPercent of the memory limit is the History Server's heap.
	HistoryHeapPercent = 75
	// MinHistoryHeapMiB is the smallest heap gen accepts: below it the
	// History Server runs out of heap replaying the event logs of a few
	// applications (gen's floor, about a third of Spark's 1g default).
	MinHistoryHeapMiB = 384
)

// Spark Operator controller. It runs bin/spark-submit once per submission,
// up to controllerWorkers at once, inside its own container (v2.5.2
// internal/controller/sparkapplication/submission.go: exec of
// $SPARK_HOME/bin/spark-submit, inheriting the controller's environment).
// In cluster mode spark-submit's JVM gets no -Xmx from Spark (the launcher
// sets one only in client mode), so the JVM would take 25% of the container
// limit each; gen bounds it with SPARK_SUBMIT_OPTS, which the launcher puts
// on that JVM's command line.
const (
	// SubmitHeapMiB is each spark-submit JVM's -Xmx (the chart's values.yaml
	// names -Xmx128m for the submission JVMs).
	SubmitHeapMiB = 128
	// SubmitFootprintMiB is what one submission takes in the container: the
	// heap plus as much again for metaspace, code cache and threads (an
	// estimate: no Spark distribution can run here to measure it).
	SubmitFootprintMiB = 256
	// ControllerBaseMiB is the operator's own Go process with its informer
	// caches, with headroom.
	ControllerBaseMiB = 128
)

// HistoryHeapMiB is SPARK_DAEMON_MEMORY, in MiB, for a memory limit.
func HistoryHeapMiB(limit Quantity) int64 {
	q, err := resource.ParseQuantity(string(limit))
	if err != nil {
		return 0
	}
	return q.Value() * HistoryHeapPercent / 100 / (1 << 20)
}

// MinHistoryMemory is the smallest History Server memory limit whose heap
// reaches MinHistoryHeapMiB.
func MinHistoryMemory() resource.Quantity {
	return *resource.NewQuantity(int64(MinHistoryHeapMiB)*100/HistoryHeapPercent*(1<<20), resource.BinarySI)
}

// MinControllerMemory is the smallest Spark Operator memory limit that holds
// the controller and workers concurrent spark-submit JVMs.
func MinControllerMemory(workers int) resource.Quantity {
	return *resource.NewQuantity(int64(ControllerBaseMiB+workers*SubmitFootprintMiB)<<20, resource.BinarySI)
}

// SubmitOpts is SPARK_SUBMIT_OPTS for the controller's container.
func SubmitOpts() string { return fmt.Sprintf("-Xmx%dm", SubmitHeapMiB) }
