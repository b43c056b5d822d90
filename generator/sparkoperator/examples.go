package sparkoperator

import (
	"k8s.io/utils/ptr"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image"
	"github.com/rdspark/gen/generator/image/spark"
	"github.com/rdspark/gen/generator/s3"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Examples are a SparkPi SparkApplication and its scheduled twin, both writing
// event logs to MinIO so they show up in the History Server. They run the same
// Spark + S3A image as the History Server (the only image with hadoop-aws),
// derived from spec.spark like image/Dockerfile. They are not synced: users
// apply them with kubectl.
func Examples(cfg config.Platform) ([]component.File, error) {
	app, err := ExampleApplication(cfg)
	if err != nil {
		return nil, err
	}
	scheduled := &ScheduledSparkApplication{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1beta2", Kind: "ScheduledSparkApplication"},
		ObjectMeta: metav1.ObjectMeta{Name: "spark-pi-scheduled", Namespace: app.Namespace},
		Spec: ScheduledSparkApplicationSpec{
			Schedule:                  "@every 30m",
			ConcurrencyPolicy:         "Forbid",
			SuccessfulRunHistoryLimit: ptr.To[int32](3),
			FailedRunHistoryLimit:     ptr.To[int32](3),
			Template:                  app.Spec,
		},
	}
	return []component.File{
		{Name: "spark-pi.yaml", Objects: []any{app}},
		{Name: "spark-pi-scheduled.yaml", Objects: []any{scheduled}},
	}, nil
}

// ExampleName is the name of the SparkPi example in examples/.
const ExampleName = "spark-pi"

// ExampleApplication is the SparkPi example of examples/spark-pi.yaml, in the
// first job namespace. gen smoke submits a renamed copy of it, so the check
// runs exactly what a user would apply.
func ExampleApplication(cfg config.Platform) (*SparkApplication, error) {
	release, err := image.Release(cfg)
	if err != nil {
		return nil, err
	}
	sparkImage, err := image.Reference(cfg)
	if err != nil {
		return nil, err
	}
	return &SparkApplication{
		TypeMeta:   metav1.TypeMeta{APIVersion: group + "/v1beta2", Kind: "SparkApplication"},
		ObjectMeta: metav1.ObjectMeta{Name: ExampleName, Namespace: cfg.Spec.SparkOperator.JobNamespaces[0]},
		Spec:       examplePi(cfg, sparkImage, release),
	}, nil
}

func examplePi(cfg config.Platform, sparkImage string, release spark.Release) SparkApplicationSpec {
	podSpec := func(role string) SparkPodSpec {
		return SparkPodSpec{
			// One task slot each, but a quarter of a CPU requested: two
			// whole CPUs (driver + executor) never fit next to the platform
			// on Rancher Desktop's 2-CPU VM, and the executor would stay
			// Pending (the laptop budget checks it).
			Cores:           ptr.To[int32](1),
			CoreRequest:     ptr.To("250m"),
			Memory:          "512m",
			Labels:          map[string]string{"app.kubernetes.io/name": "spark-pi", "app.kubernetes.io/component": role},
			Env:             s3.CredentialsEnv(cfg),
			SecurityContext: component.ContainerSecurityWritable(),
			PodSecurity:     component.PodSecurity(sparkUID),
		}
	}
	return SparkApplicationSpec{
		Type:            "Scala",
		Mode:            "cluster",
		Image:           sparkImage,
		ImagePullPolicy: "IfNotPresent",
		MainClass:       "org.apache.spark.examples.SparkPi",
		// apache/spark images ship the examples jar under its Scala-versioned name.
		MainApplicationFile: "local://" + release.ExamplesJar(),
		Arguments:           []string{"1000"},
		SparkVersion:        release.Version,
		SparkConf: map[string]string{
			"spark.eventLog.enabled": "true",
			"spark.eventLog.dir":     cfg.Spec.HistoryServer.LogDirectory,
		},
		HadoopConf:    s3.HadoopConf(cfg),
		RestartPolicy: RestartPolicy{Type: "Never"},
		Driver:        DriverSpec{SparkPodSpec: podSpec("driver"), ServiceAccount: DriverServiceAccount},
		Executor:      ExecutorSpec{SparkPodSpec: podSpec("executor"), Instances: ptr.To[int32](1)},
	}
}
