package sparkoperator

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/rdspark/gen/generator/component"
	"github.com/rdspark/gen/generator/config"
)

// DriverServiceAccount is what Spark drivers run as in every job namespace.
const DriverServiceAccount = "spark"

const driverRole = "spark-driver"

// Jobs renders what each job namespace needs to run Spark: the driver's
// ServiceAccount and the Role that lets it manage its executors.
func Jobs(cfg config.Platform) component.Component {
	var files []component.File
	for _, ns := range cfg.Spec.SparkOperator.JobNamespaces {
		labels := component.Labels("spark", "driver")
		files = append(files, component.File{Name: ns + ".yaml", Objects: []any{
			&corev1.ServiceAccount{TypeMeta: component.TypeMeta("v1", "ServiceAccount"), ObjectMeta: component.Meta(DriverServiceAccount, ns, labels)},
			&rbacv1.Role{
				TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "Role"),
				ObjectMeta: component.Meta(driverRole, ns, labels),
				// The driver creates executor pods, its UI service and config maps.
				Rules: []rbacv1.PolicyRule{rule("", []string{"pods", "configmaps", "persistentvolumeclaims", "services"},
					"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")},
			},
			&rbacv1.RoleBinding{
				TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "RoleBinding"),
				ObjectMeta: component.Meta(driverRole, ns, labels),
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: driverRole},
				Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: DriverServiceAccount, Namespace: ns}},
			},
		}})
	}
	return component.Component{Name: jobsComponentName, Namespace: cfg.Spec.SparkOperator.JobNamespaces[0], Wave: 3, Files: files}
}
