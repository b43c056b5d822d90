package sparkoperator

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Spark Operator's v1beta2 kinds, reduced to the fields the examples set.
// Importing the operator's Go module would pull controller-runtime and its
// Kubernetes pins into gen; the real CRD schema checks these on an API server.

// SparkApplication is sparkoperator.k8s.io/v1beta2 SparkApplication.
type SparkApplication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              SparkApplicationSpec `json:"spec"`
}

// ScheduledSparkApplication is sparkoperator.k8s.io/v1beta2 ScheduledSparkApplication.
type ScheduledSparkApplication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ScheduledSparkApplicationSpec `json:"spec"`
}

// ScheduledSparkApplicationSpec runs Template on Schedule.
type ScheduledSparkApplicationSpec struct {
	Schedule                  string               `json:"schedule"`
	ConcurrencyPolicy         string               `json:"concurrencyPolicy,omitempty"`
	SuccessfulRunHistoryLimit *int32               `json:"successfulRunHistoryLimit,omitempty"`
	FailedRunHistoryLimit     *int32               `json:"failedRunHistoryLimit,omitempty"`
	Template                  SparkApplicationSpec `json:"template"`
}

// SparkApplicationSpec is the subset of the v1beta2 spec gen renders.
type SparkApplicationSpec struct {
	Type                string            `json:"type"`
	Mode                string            `json:"mode"`
	Image               string            `json:"image"`
	ImagePullPolicy     string            `json:"imagePullPolicy,omitempty"`
	MainClass           string            `json:"mainClass"`
	MainApplicationFile string            `json:"mainApplicationFile"`
	Arguments           []string          `json:"arguments,omitempty"`
	SparkVersion        string            `json:"sparkVersion"`
	SparkConf           map[string]string `json:"sparkConf,omitempty"`
	HadoopConf          map[string]string `json:"hadoopConf,omitempty"`
	RestartPolicy       RestartPolicy     `json:"restartPolicy"`
	Driver              DriverSpec        `json:"driver"`
	Executor            ExecutorSpec      `json:"executor"`
}

// RestartPolicy of a SparkApplication (Never, OnFailure, Always).
type RestartPolicy struct {
	Type string `json:"type"`
}

// SparkPodSpec are the pod settings drivers and executors share.
type SparkPodSpec struct {
	Cores *int32 `json:"cores,omitempty"`
	// CoreRequest is the pod's CPU request (the operator's
	// spark.kubernetes.{driver,executor}.request.cores); without it the
	// pod requests Cores whole CPUs.
	CoreRequest     *string                    `json:"coreRequest,omitempty"`
	Memory          string                     `json:"memory,omitempty"`
	Labels          map[string]string          `json:"labels,omitempty"`
	Env             []corev1.EnvVar            `json:"env,omitempty"`
	SecurityContext *corev1.SecurityContext    `json:"securityContext,omitempty"`
	PodSecurity     *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`
}

// DriverSpec is the driver pod.
type DriverSpec struct {
	SparkPodSpec   `json:",inline"`
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// ExecutorSpec is the executor pods.
type ExecutorSpec struct {
	SparkPodSpec `json:",inline"`
	Instances    *int32 `json:"instances,omitempty"`
}

// Spark's memory overhead of a JVM pod, added to spark.{driver,executor}.memory
// in the pod's memory request and limit: memory x
// spark.{driver,executor}.memoryOverheadFactor (0.10 for JVM jobs), at least
// spark.{driver,executor}.minMemoryOverhead (384m) (Spark 4.0 "Running on
// Kubernetes" and configuration docs).
const (
	memoryOverheadPercent = 10
	minMemoryOverheadMiB  = 384
)

// PodRequests are the CPU and memory requests of the pod the operator
// creates for s: CoreRequest (or Cores whole CPUs), and Memory plus Spark's
// memory overhead.
func (s SparkPodSpec) PodRequests() (cpu, memory resource.Quantity, err error) {
	switch {
	case s.CoreRequest != nil:
		if cpu, err = resource.ParseQuantity(*s.CoreRequest); err != nil {
			return cpu, memory, fmt.Errorf("coreRequest %q: %w", *s.CoreRequest, err)
		}
	case s.Cores != nil:
		cpu = *resource.NewQuantity(int64(*s.Cores), resource.DecimalSI)
	default:
		cpu = resource.MustParse("1") // spark.{driver,executor}.cores defaults to 1
	}
	mib, err := sparkMiB(s.Memory)
	if err != nil {
		return cpu, memory, err
	}
	overhead := max(mib*memoryOverheadPercent/100, minMemoryOverheadMiB)
	return cpu, *resource.NewQuantity((mib+overhead)<<20, resource.BinarySI), nil
}

// sparkMiB parses a Spark memory string ("512m", "2g"; binary units, a bare
// number is MiB for driver and executor memory), 1g when empty.
func sparkMiB(v string) (int64, error) {
	if v == "" {
		return 1024, nil
	}
	s := strings.ToLower(strings.TrimSuffix(strings.ToLower(v), "b"))
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = -1024, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		s = strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "g"):
		mult, s = 1024, strings.TrimSuffix(s, "g")
	case strings.HasSuffix(s, "t"):
		mult, s = 1024*1024, strings.TrimSuffix(s, "t")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("memory %q is not a Spark size like 512m or 2g", v)
	}
	if mult < 0 {
		return (n + 1023) / 1024, nil
	}
	return n * mult, nil
}
