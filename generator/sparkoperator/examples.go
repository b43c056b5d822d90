package sparkoperator

import (
	"strings"

	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/s3"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Examples are a SparkPi SparkApplication and its scheduled twin, both writing
// event logs to MinIO so they show up in the History Server. They run the same
// Spark + S3A image as the History Server (the only image with hadoop-aws).
// They are not synced: users apply them with kubectl.
func Examples(cfg config.Platform, sparkImage, sparkVersion string) []component.File {
	ns := cfg.Spec.SparkOperator.JobNamespaces[0]
	spec := examplePi(cfg, sparkImage, sparkVersion)
	app := &SparkApplication{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1beta2", Kind: "SparkApplication"},
		ObjectMeta: metav1.ObjectMeta{Name: "spark-pi", Namespace: ns},
		Spec:       spec,
	}
	scheduled := &ScheduledSparkApplication{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1beta2", Kind: "ScheduledSparkApplication"},
		ObjectMeta: metav1.ObjectMeta{Name: "spark-pi-scheduled", Namespace: ns},
		Spec: ScheduledSparkApplicationSpec{
			Schedule:                  "@every 30m",
			ConcurrencyPolicy:         "Forbid",
			SuccessfulRunHistoryLimit: ptr.To[int32](3),
			FailedRunHistoryLimit:     ptr.To[int32](3),
			Template:                  spec,
		},
	}
	return []component.File{
		{Name: "spark-pi.yaml", Objects: []any{app}},
		{Name: "spark-pi-scheduled.yaml", Objects: []any{scheduled}},
	}
}

func examplePi(cfg config.Platform, image, version string) SparkApplicationSpec {
	// apache/spark images ship the examples jar under its Scala-versioned name.
	scala := "2.12"
	if !strings.HasPrefix(version, "3.") {
		scala = "2.13"
	}
	podSpec := func(role string) SparkPodSpec {
		return SparkPodSpec{
			Cores:           ptr.To[int32](1),
			Memory:          "512m",
			Labels:          map[string]string{"app.kubernetes.io/name": "spark-pi", "app.kubernetes.io/component": role},
			Env:             s3.CredentialsEnv(cfg),
			SecurityContext: component.ContainerSecurityWritable(),
			PodSecurity:     component.PodSecurity(sparkUID),
		}
	}
	return SparkApplicationSpec{
		Type:                "Scala",
		Mode:                "cluster",
		Image:               image,
		ImagePullPolicy:     "IfNotPresent",
		MainClass:           "org.apache.spark.examples.SparkPi",
		MainApplicationFile: "local:///opt/spark/examples/jars/spark-examples_" + scala + "-" + version + ".jar",
		Arguments:           []string{"1000"},
		SparkVersion:        version,
		SparkConf: map[string]string{
			"spark.eventLog.enabled": "true",
			"spark.eventLog.dir":     cfg.Spec.HistoryServer.LogDirectory,
		},
		HadoopConf:    s3.HadoopConf(),
		RestartPolicy: RestartPolicy{Type: "Never"},
		Driver:        DriverSpec{SparkPodSpec: podSpec("driver"), ServiceAccount: DriverServiceAccount},
		Executor:      ExecutorSpec{SparkPodSpec: podSpec("executor"), Instances: ptr.To[int32](1)},
	}
}
