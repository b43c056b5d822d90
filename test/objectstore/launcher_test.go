//go:build linux

package objectstore

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/rdspark/gen/generator/component"
)

// TestLauncherAppliesTheSecurityContext proves that the processes the other
// tests start run the way the restricted pods would: as the pod's user and
// groups, on a read-only root filesystem, with their volumes writable and
// mounted where the pod mounts them. Without it, a store that only works as
// root, or writes outside its volumes, could pass.
func TestLauncherAppliesTheSecurityContext(t *testing.T) {
	bin := requireBinaries(t) // skips under -short; the folder is mounted
	pod := corev1.PodSpec{SecurityContext: component.PodSecurity(1000)}
	pod.SecurityContext.FSGroup = ptrTo(int64(2000))
	c := corev1.Container{
		Name: "probe",
		Command: []string{"/bin/sh", "-c", `echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
touch /usr/not-a-volume 2>/dev/null && echo "root is writable" || echo "root is read-only"
touch /tmp/x && echo "tmp volume is writable"
touch "$DATA" && echo "data volume is writable"
grep -q ' /tmp ' /proc/self/mounts && echo "tmp is a mount"
echo "data=$DATA"`},
		Env:             []corev1.EnvVar{{Name: "DATA", Value: "/data/x"}},
		SecurityContext: component.ContainerSecurity(),
		VolumeMounts:    []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}, {Name: "data", MountPath: "/data"}},
	}
	root := t.TempDir()
	p := toProcess(t, pod, c, image{}, bin, root, nil)
	out, _, err := tryJob(t, p)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("output:\n%s", out)
	for _, want := range []string{
		"uid=1000 gid=1000 groups=1000 2000",
		"root is read-only",
		"tmp volume is writable",
		"tmp is a mount",
		// /data is not a folder here: the path is rewritten in env and args.
		"data volume is writable",
		"data=" + root + "/volumes/data/x",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
