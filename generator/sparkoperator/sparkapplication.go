package sparkoperator

import (
	corev1 "k8s.io/api/core/v1"
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
	Cores           *int32                     `json:"cores,omitempty"`
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
