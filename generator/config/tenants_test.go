package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const header = "apiVersion: gen.rdspark.dev/v1alpha1\nkind: Platform\nspec:\n"

// TestValidationNamesTheFieldOfEveryNewSetting covers the object store
// choice, tenants and the environment's TLS and replicas: each bad value is
// reported with its field path and a reason.
func TestValidationNamesTheFieldOfEveryNewSetting(t *testing.T) {
	cases := []struct {
		name, spec string
		want       []string
	}{
		{"unknown store", "  objectStore: {type: ceph}\n",
			[]string{"spec.objectStore.type", `Unsupported value: "ceph"`, `"minio", "seaweedfs", "external"`}},
		{"external without endpoint", "  objectStore: {type: external}\n",
			[]string{"spec.objectStore.endpoint", "http(s)://"}},
		{"external endpoint with a path slash", "  objectStore: {type: external, endpoint: \"https://s3.example.com/\"}\n",
			[]string{"spec.objectStore.endpoint", "without trailing slash"}},
		{"endpoint for an in-cluster store", "  objectStore: {type: seaweedfs, endpoint: \"https://s3.example.com\"}\n",
			[]string{"spec.objectStore.endpoint", "only for type external"}},
		{"in-cluster store without path style", "  objectStore: {pathStyleAccess: false}\n",
			[]string{"spec.objectStore.pathStyleAccess", "must be true"}},
		{"bad region", "  objectStore: {region: \"EU West\"}\n",
			[]string{"spec.objectStore.region", "S3 region"}},
		{"seaweedfs image unpinned", "  seaweedfs: {image: docker.io/chrislusf/seaweedfs}\n",
			[]string{"spec.seaweedfs.image", "pinned"}},
		{"seaweedfs image latest", "  seaweedfs: {image: \"docker.io/chrislusf/seaweedfs:latest\"}\n",
			[]string{"spec.seaweedfs.image", "not latest"}},
		{"tenant without name", "  tenants: [{groups: [a]}]\n",
			[]string{"spec.tenants[0].name", "Required"}},
		{"tenant name not a label", "  tenants: [{name: Team_A}]\n",
			[]string{"spec.tenants[0].name", "RFC 1123"}},
		{"tenant is a platform namespace", "  tenants: [{name: spark-history}]\n",
			[]string{"spec.tenants[0].name", "platform or system namespace"}},
		{"tenant is default", "  tenants: [{name: default}]\n",
			[]string{"spec.tenants[0].name", "platform or system namespace"}},
		{"tenant is a job namespace", "  tenants: [{name: spark-jobs}]\n",
			[]string{"spec.tenants[0].name", "Duplicate value"}},
		{"duplicate tenants", "  tenants: [{name: a1}, {name: a1}]\n",
			[]string{"spec.tenants[1].name", "Duplicate value"}},
		{"blank group", "  tenants: [{name: a1, groups: [\" \"]}]\n",
			[]string{"spec.tenants[0].groups[0]", "group name"}},
		{"privileged tenant", "  tenants: [{name: a1, podSecurity: privileged}]\n",
			[]string{"spec.tenants[0].podSecurity", `"baseline", "restricted"`}},
		{"bad quota", "  tenants: [{name: a1, quota: {cpu: lots, memory: \"-1Gi\", pods: -1, sparkApplications: 100001}}]\n",
			[]string{"spec.tenants[0].quota.cpu", "not a quantity", "spec.tenants[0].quota.memory", "greater than zero",
				"spec.tenants[0].quota.pods", "spec.tenants[0].quota.sparkApplications"}},
		{"defaults above the quota", "  tenants: [{name: a1, quota: {cpu: 500m, memory: 1Gi}, containerDefaults: {cpu: \"1\", memory: 2Gi}}]\n",
			[]string{"spec.tenants[0].containerDefaults.cpu", "must not exceed quota.cpu 500m", "spec.tenants[0].containerDefaults.memory", "quota.memory 1Gi"}},
		{"bad source repo", "  tenants: [{name: a1, sourceRepos: [\"not a url\"]}]\n",
			[]string{"spec.tenants[0].sourceRepos[0]", "Git URL"}},
		{"issuer without tls", "  environments: [{name: c, domain: c.example, tls: {clusterIssuer: letsencrypt}}]\n",
			[]string{"spec.environments[0].tls.clusterIssuer", "tls.enabled is false"}},
		{"too many replicas", "  environments: [{name: c, domain: c.example, replicas: {sparkOperator: 11, historyServer: -1}}]\n",
			[]string{"spec.environments[0].replicas.sparkOperator", "spec.environments[0].replicas.historyServer", "between 0"}},
		{"unknown tenant field", "  tenants: [{name: a1, quotas: {}}]\n",
			[]string{"spec.tenants[0].quotas", "unknown field"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("gen.yaml", []byte(header+tc.spec))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestTenantsGetDefaultsAndJoinTheJobNamespaces(t *testing.T) {
	cfg, err := Load("gen.yaml", []byte(header+`  git: {repoURL: "https://git.example.com/p.git"}
  sparkOperator: {jobNamespaces: [jobs]}
  tenants:
  - name: b
    quota: {cpu: "2"}
  - name: a
    groups: [ops, dev]
    sourceRepos: ["git@git.example.com:a/jobs.git"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.AllJobNamespaces(); !reflect.DeepEqual(got, []string{"jobs", "b", "a"}) {
		t.Errorf("AllJobNamespaces = %v, want the job namespaces, then the tenants in config order", got)
	}
	b, a := cfg.Spec.Tenants[0], cfg.Spec.Tenants[1]
	d := DefaultTenant()
	if b.Quota.CPU != "2" || b.Quota.Memory != d.Quota.Memory || b.Quota.Pods != d.Quota.Pods || b.ContainerDefaults != d.ContainerDefaults || b.PodSecurity != "baseline" {
		t.Errorf("tenant b = %+v, want its CPU quota and the defaults for the rest", b)
	}
	if !reflect.DeepEqual(b.Groups, []string{"b"}) || !reflect.DeepEqual(b.SourceRepos, []string{"https://git.example.com/p.git"}) {
		t.Errorf("tenant b groups/repos = %v/%v, want [b] and the platform repository", b.Groups, b.SourceRepos)
	}
	if !reflect.DeepEqual(a.Groups, []string{"ops", "dev"}) || !reflect.DeepEqual(a.SourceRepos, []string{"git@git.example.com:a/jobs.git"}) {
		t.Errorf("tenant a groups/repos = %v/%v", a.Groups, a.SourceRepos)
	}
	// A deep copy: a plain assignment would share the tenant slice with cfg,
	// so Complete would change both and the comparison could never fail.
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var again Platform
	if err := json.Unmarshal(raw, &again); err != nil {
		t.Fatal(err)
	}
	again.Complete()
	if !reflect.DeepEqual(again, cfg) {
		t.Errorf("Complete is not idempotent with tenants:\n%+v\nthen\n%+v", cfg.Spec.Tenants, again.Spec.Tenants)
	}
	again.Spec.Tenants[0].Groups[0] = "changed"
	if cfg.Spec.Tenants[0].Groups[0] == "changed" {
		t.Fatal("the copy shares its slices with cfg: the idempotency check above proves nothing")
	}
}

func TestObjectStoreChoiceIsOneValue(t *testing.T) {
	cfg, err := Load("gen.yaml", []byte(header+"  objectStore:\n    type: seaweedfs\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Spec.ObjectStore.Type != ObjectStoreSeaweedFS || cfg.Spec.HistoryServer.LogDirectory != "s3a://spark/spark-events/" {
		t.Errorf("objectStore = %+v, log directory %s", cfg.Spec.ObjectStore, cfg.Spec.HistoryServer.LogDirectory)
	}
	if _, err := Load("gen.yaml", []byte(header+"  objectStore: {type: external, endpoint: \"https://s3.eu-central-1.amazonaws.com\", region: eu-central-1, pathStyleAccess: false}\n")); err != nil {
		t.Errorf("an external store: %v", err)
	}
}
