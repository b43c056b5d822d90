//go:build linux

package objectstore

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/rdspark/gen/generator"
	"github.com/rdspark/gen/generator/config"
	"github.com/rdspark/gen/generator/image/spark"
	"github.com/rdspark/gen/generator/sparkoperator"
	"github.com/rdspark/gen/internal/testcache"
	"github.com/rdspark/gen/internal/upstreamtest"
)

// sparkBuildCommand is what a developer runs when the tests' Spark is missing.
const sparkBuildCommand = "hack/spark/build.sh (or make spark)"

// sparkHome returns the SPARK_HOME that hack/spark/build.sh assembled for
// version: skipped under -short, and a loud failure naming the build command
// when it is missing (a CI run that skips the real Spark proves nothing).
func sparkHome(t testing.TB, version string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real Spark JVMs; skipped under -short")
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("no java on PATH: Spark %s runs on a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)", version)
	}
	home := testcache.Dir("spark-"+version, "spark")
	for _, f := range []string{"bin/spark-class", "bin/spark-submit", "jars"} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Fatalf("Spark %s is not assembled (%v): run %s", version, err, sparkBuildCommand)
		}
	}
	return home
}

// sparkImage is the Spark + S3A image of image/Dockerfile, made of this
// machine's parts, each where the image has it:
//   - /opt/spark: the SPARK_HOME of hack/spark/build.sh (the release's jars
//     and bin/, plus the S3A jars image/Dockerfile adds), read-only as an image
//     layer; work-dir, the image's WORKDIR, is the one folder its user may
//     write (apache/spark Dockerfile: chmod g+w /opt/spark/work-dir);
//   - /opt/entrypoint.sh: the apache/spark image's ENTRYPOINT, the upstream
//     file itself (spark-docker 4.0.3, hack/upstream/SHA256SUMS);
//   - /opt/java/openjdk: this machine's JDK 17, where the image's base
//     (eclipse-temurin:17-jammy) installs its JDK and points JAVA_HOME;
//   - /etc/passwd and /etc/group with the image's spark user and group (uid
//     and gid 185: `useradd --system --uid=185 --gid=spark -d /nonexistent
//     spark` in the apache/spark Dockerfile), so that Hadoop finds a user name
//     as it does in the image.
//
// ENV: SPARK_HOME=/opt/spark (apache/spark), JAVA_HOME=/opt/java/openjdk and
// PATH with its bin first (eclipse-temurin). Not modelled: the image's
// locale settings (LANG, LC_ALL: en_US.UTF-8 may not exist here) and its
// Ubuntu userland (this machine's Debian tools run instead).
func sparkImage(t testing.TB, cfg config.Platform) image {
	t.Helper()
	home := sparkHome(t, cfg.Spec.Spark.Version)
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatal(err)
	}
	java, err = filepath.EvalSymlinks(java)
	if err != nil {
		t.Fatal(err)
	}
	jdk := filepath.Dir(filepath.Dir(java)) // <jdk>/bin/java
	up, err := upstreamtest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	accounts := t.TempDir()
	openPath(t, accounts)
	for name, line := range map[string]string{
		"passwd": fmt.Sprintf("spark:x:%d:%d::/nonexistent:/bin/sh\n", spark.UID, spark.UID),
		"group":  fmt.Sprintf("spark:x:%d:\n", spark.UID),
	} {
		base, err := os.ReadFile(filepath.Join("/etc", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(accounts, name), append(base, line...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := []imageFile{
		{host: filepath.Join(home, "bin"), path: "/opt/spark/bin"},
		{host: filepath.Join(home, "jars"), path: "/opt/spark/jars"},
		{host: filepath.Join(home, "examples"), path: "/opt/spark/examples"},
		{host: filepath.Join(home, "RELEASE"), path: "/opt/spark/RELEASE"},
		{path: "/opt/spark/work-dir", writable: true},
		{host: filepath.Join(up, "spark-docker", "4.0.3", "entrypoint.sh"), path: "/opt/entrypoint.sh"},
		{host: jdk, path: "/opt/java/openjdk"},
		{host: filepath.Join(accounts, "passwd"), path: "/etc/passwd"},
		{host: filepath.Join(accounts, "group"), path: "/etc/group"},
	}
	return image{
		entrypoint: []string{"/opt/entrypoint.sh"},
		env: []string{
			"JAVA_HOME=/opt/java/openjdk",
			"PATH=/opt/java/openjdk/bin:" + imageBin + ":/usr/sbin:/usr/bin:/sbin:/bin",
			"SPARK_HOME=/opt/spark",
		},
		workingDir: "/opt/spark/work-dir",
		roots:      []string{"/opt"},
		files:      files,
	}
}

// checkSparkImage fails unless ref is the image the config renders: the
// test's Spark stands for that image and no other.
func checkSparkImage(t testing.TB, cfg config.Platform, what, ref string) {
	t.Helper()
	r, err := spark.Lookup(cfg.Spec.Spark.Version)
	if err != nil {
		t.Fatal(err)
	}
	if want := cfg.Spec.Spark.Image + ":" + r.Tag(); ref != want {
		t.Fatalf("%s runs image %s, not the Spark + S3A image %s that image/Dockerfile builds", what, ref, want)
	}
}

// historyServer is the rendered History Server of one kustomize folder.
type historyServer struct {
	deployment *appsv1.Deployment
	configMaps map[string]map[string]string // name -> key -> content
}

// renderHistory builds the History Server's folder (the base under
// manifests/, or an overlay) of the tree rendered at out.
func renderHistory(t testing.TB, out string, elem ...string) historyServer {
	t.Helper()
	h := historyServer{configMaps: map[string]map[string]string{}}
	objs, err := buildFolder(filepath.Join(append([]string{out}, elem...)...))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", filepath.Join(elem...), err)
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment":
			h.deployment = new(appsv1.Deployment)
			convert(t, o, h.deployment)
		case "ConfigMap":
			cm := new(corev1.ConfigMap)
			convert(t, o, cm)
			h.configMaps[cm.Name] = cm.Data
		}
	}
	if h.deployment == nil {
		t.Fatalf("%s has no Deployment", filepath.Join(elem...))
	}
	return h
}

// fillConfigMaps writes the content of every ConfigMap volume that c mounts
// into the folder toProcess made for it under root, as the kubelet projects
// a ConfigMap's keys into files.
func fillConfigMaps(t testing.TB, pod corev1.PodSpec, c corev1.Container, root string, configMaps map[string]map[string]string) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 {
			t.Fatalf("container %s mounts %s, which the pod does not declare", c.Name, m.Name)
		}
		v := pod.Volumes[i]
		if v.ConfigMap == nil {
			continue
		}
		data, ok := configMaps[v.ConfigMap.Name]
		if !ok {
			t.Fatalf("volume %s: ConfigMap %s is not rendered beside the Deployment", v.Name, v.ConfigMap.Name)
		}
		if len(v.ConfigMap.Items) > 0 {
			t.Fatalf("volume %s: ConfigMap items are not modelled", v.Name)
		}
		for key, content := range data {
			if err := os.WriteFile(filepath.Join(root, "volumes", m.Name, key), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// exampleApplication reads the example SparkApplication of the rendered tree.
func exampleApplication(t testing.TB, out string) sparkoperator.SparkApplication {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, generator.ExamplesDir, sparkoperator.ExampleName+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var app sparkoperator.SparkApplication
	if err := yaml.UnmarshalStrict(data, &app); err != nil {
		t.Fatalf("examples/%s.yaml: %v", sparkoperator.ExampleName, err)
	}
	return app
}

// localSubmit is the container that runs the example application's
// spark-submit in Spark's local mode: the driver and its executor threads in
// one JVM, as the driver pod's user, with the driver's env, and with the
// application's class, file, arguments, sparkConf and hadoopConf
// (hadoopConf as spark.hadoop.<key>, as the operator passes it:
// kubeflow/spark-operator internal/controller/sparkapplication/submission.go,
// hadoopConfOption).
//
// FAKE: spark-submit in local mode stands in for the operator's cluster-mode
// submission (driver and executor pods). What is real: the Spark JVM, its
// event-log writer and S3A with the example's settings and the credentials
// gen bootstrap creates, against the real MinIO; the History Server then
// reads what it wrote.
func localSubmit(t testing.TB, app sparkoperator.SparkApplication) (corev1.PodSpec, corev1.Container) {
	t.Helper()
	s := app.Spec
	file, ok := strings.CutPrefix(s.MainApplicationFile, "local://")
	if !ok {
		t.Fatalf("mainApplicationFile %s is not a local:// file of the image", s.MainApplicationFile)
	}
	args := []string{"--master", "local[2]", "--deploy-mode", "client", "--class", s.MainClass, "--name", app.Name}
	for _, k := range sortedKeys(s.SparkConf) {
		args = append(args, "--conf", k+"="+s.SparkConf[k])
	}
	for _, k := range sortedKeys(s.HadoopConf) {
		args = append(args, "--conf", "spark.hadoop."+k+"="+s.HadoopConf[k])
	}
	args = append(append(args, file), s.Arguments...)
	c := corev1.Container{
		Name:            "spark-kubernetes-driver",
		Image:           s.Image,
		Command:         []string{"/opt/spark/bin/spark-submit"},
		Args:            args,
		Env:             s.Driver.Env,
		SecurityContext: s.Driver.SecurityContext,
		// spark-submit's pods get an emptyDir for spark.local.dir; /tmp
		// is where local mode puts it.
		VolumeMounts: []corev1.VolumeMount{{Name: "spark-local-dir", MountPath: "/tmp"}},
	}
	return corev1.PodSpec{SecurityContext: s.Driver.PodSecurity}, c
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
