package config

// Default is the built-in configuration: the full platform on Rancher Desktop.
// gen render without a gen.yaml renders exactly this.
func Default() Platform {
	return Platform{
		APIVersion: APIVersion,
		Kind:       Kind,
		Spec: Spec{
			Git: Git{
				RepoURL:  "https://github.com/rdspark/gen.git",
				Revision: "main",
				Path:     ".",
			},
			Environments: []Environment{DefaultEnvironment()},
			ArgoCD: ArgoCD{
				// The newest Argo CD release whose install.yaml and Go module
				// can be verified here (module proxy, 2026-11): 3.6.3 is not
				// served. upstreamtest.Dir fails when the upstream folder has
				// no install.yaml of this pin.
				Version:          "3.6.1",
				ManifestsBaseURL: "https://raw.githubusercontent.com/argoproj/argo-cd",
			},
			ObjectStore: ObjectStore{
				Type:            ObjectStoreMinIO,
				Region:          "us-east-1",
				PathStyleAccess: true,
			},
			MinIO: MinIO{
				// The last community image; minio/minio is gone from Docker Hub.
				Image:             "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z",
				Storage:           "20Gi",
				Bucket:            "spark",
				EventLogPrefix:    "spark-events",
				CredentialsSecret: "minio-root",
				Resources:         resources("250m", "512Mi", "1", "1Gi"),
			},
			SeaweedFS: SeaweedFS{
				// A release tag of the official image (Docker Hub), never latest.
				Image:     "docker.io/chrislusf/seaweedfs:4.47",
				Resources: resources("250m", "512Mi", "1", "1Gi"),
			},
			SparkOperator: SparkOperator{
				Version:       "2.5.2",
				Image:         "ghcr.io/kubeflow/spark-operator/controller:2.5.2",
				CRDBaseURL:    "https://raw.githubusercontent.com/kubeflow/spark-operator",
				JobNamespaces: []string{"spark-jobs"},
				Webhook:       true,
				// Each worker may run one spark-submit JVM at a time inside
				// the controller's container (the chart's values.yaml warns of
				// "signal: killed" when the limit is too small). The chart's
				// 10 needs 128Mi + 10 x 256Mi; 4 submissions at once are
				// plenty for one laptop or team.
				ControllerWorkers: 4,
				// The memory limit holds the controller plus ControllerWorkers
				// submit JVMs (see MinControllerMemory); requests stay small,
				// submissions are short.
				Resources: resources("100m", "128Mi", "500m", "1152Mi"),
			},
			Spark: Spark{
				// The Spark the operator's own image submits with: Spark
				// Operator 2.5.2's image is built on apache/spark:4.0.4 (its
				// Dockerfile). Jobs, History Server and operator run one Spark.
				Version: "4.0.4",
				Image:   "ghcr.io/rdspark/spark-s3a",
			},
			HistoryServer: HistoryServer{
				Resources: resources("250m", "1Gi", "1", "2Gi"),
				Cleaner:   Cleaner{Enabled: true, Interval: "1d", MaxAge: "7d"},
			},
			Tenants: []Tenant{},
		},
	}
}

// DefaultEnvironment is the laptop: Rancher Desktop's k3s with Traefik and
// local-path storage, at the node address Rancher Desktop on macOS gives.
func DefaultEnvironment() Environment {
	small := resources("50m", "256Mi", "500m", "768Mi")
	// Requests for an idle controller; the limit holds 4 submit JVMs (see
	// MinControllerMemory and ControllerWorkers).
	operator := resources("50m", "128Mi", "500m", "1152Mi")
	return Environment{
		Name:                  "rancher-desktop",
		NodeIP:                "192.168.64.3",
		Capacity:              RancherDesktopCapacity(),
		IngressClassName:      "traefik",
		StorageClassName:      "local-path",
		ReconciliationTimeout: "60s",
		Resources: EnvironmentResources{
			MinIO:         &small,
			SeaweedFS:     &small,
			SparkOperator: &operator,
			HistoryServer: &small,
		},
	}
}

// RancherDesktopCapacity is Rancher Desktop's default VM: 2 CPUs, and on
// macOS and Linux 25% of the host's memory up to 6 GB, which is 4 GB on the
// common 16 GB laptop (rancher-desktop pkg/rancher-desktop/config/settings.ts:
// defaultSettings.virtualMachine.numberCPUs = 2; load() sets memoryInGB to
// min(6, round(totalmem/4)) on first run). gen bootstrap and gen doctor
// compare it with the node's real allocatable resources.
func RancherDesktopCapacity() Capacity {
	return Capacity{CPU: "2", Memory: "4Gi"}
}

// DefaultTenant holds the values a tenant gets for every field it leaves
// out (Groups and SourceRepos are derived in Complete): enough for a few
// small Spark jobs at once on a shared cluster.
func DefaultTenant() Tenant {
	return Tenant{
		PodSecurity: "baseline",
		Quota: Quota{
			CPU:               "8",
			Memory:            "32Gi",
			Pods:              50,
			SparkApplications: 20,
		},
		ContainerDefaults: ContainerDefaults{CPU: "250m", Memory: "512Mi"},
	}
}

// ExampleTenant is the tenant the config reference shows (the default has none).
func ExampleTenant() Tenant {
	t := DefaultTenant()
	t.Name = "team-a"
	t.Groups = []string{"team-a"}
	t.SourceRepos = []string{"https://github.com/acme/team-a-jobs.git"}
	return t
}

func resources(cpuRequest, memoryRequest, cpuLimit, memoryLimit Quantity) Resources {
	return Resources{
		Requests: ResourceList{CPU: cpuRequest, Memory: memoryRequest},
		Limits:   ResourceList{CPU: cpuLimit, Memory: memoryLimit},
	}
}
