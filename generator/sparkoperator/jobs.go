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

// Jobs renders what each configured job namespace needs to run Spark (tenants
// render the same for theirs, with the rest of the tenant).
func Jobs(cfg config.Platform) component.Component {
	var files []component.File
	for _, ns := range cfg.Spec.SparkOperator.JobNamespaces {
		files = append(files, component.File{Name: ns + ".yaml", Objects: DriverObjects(ns)})
	}
	return component.Component{Name: jobsComponentName, Namespace: cfg.Spec.SparkOperator.JobNamespaces[0], Wave: 3, Files: files}
}

// DriverObjects are the driver's ServiceAccount in ns and the Role (with its
// binding) that lets it manage its executors: pods, their config maps and
// volume claims, and its UI service.
func DriverObjects(ns string) []any {
	labels := component.Labels("spark", "driver")
	return []any{
		&corev1.ServiceAccount{TypeMeta: component.TypeMeta("v1", "ServiceAccount"), ObjectMeta: component.Meta(DriverServiceAccount, ns, labels)},
		&rbacv1.Role{
			TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "Role"),
			ObjectMeta: component.Meta(driverRole, ns, labels),
			Rules: []rbacv1.PolicyRule{rule("", []string{"pods", "configmaps", "persistentvolumeclaims", "services"},
				"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   component.TypeMeta("rbac.authorization.k8s.io/v1", "RoleBinding"),
			ObjectMeta: component.Meta(driverRole, ns, labels),
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: driverRole},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: DriverServiceAccount, Namespace: ns}},
		},
	}
}

// Group is the API group of the Spark Operator's kinds.
const Group = group
