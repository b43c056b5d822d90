package testcluster

import "testing"

// The ServiceAccount admission plugin is turned off exactly when the
// serviceaccount controller does not run; kube-controller-manager takes the
// controller under its old name and its "-controller" name alike.
func TestRunsController(t *testing.T) {
	for _, tc := range []struct {
		controllers []string
		cm          bool
		want        bool
	}{
		{nil, false, false},
		{nil, true, true}, // "*"
		{[]string{"namespace"}, true, false},
		{[]string{"serviceaccount"}, true, true},
		{[]string{"serviceaccount-controller"}, true, true},
		{[]string{"serviceaccount-token-controller"}, true, false},
		{[]string{"*", "-serviceaccount"}, true, false},
		{[]string{"*", "-serviceaccount-controller"}, true, false},
		{[]string{"*", "-namespace-controller"}, true, true},
	} {
		o := &options{controllerManager: tc.cm, controllers: tc.controllers}
		if got := runsController(o, "serviceaccount"); got != tc.want {
			t.Errorf("controller manager %v, --controllers=%v: runs serviceaccount = %v, want %v", tc.cm, tc.controllers, got, tc.want)
		}
	}
}
