// Command pin prints the Argo CD release gen pins by default
// (config.Default().Spec.ArgoCD.Version, like "3.6.1"), so that
// hack/argocd/build.sh builds what users get without parsing Go source with
// grep: when the pin moves, the next build follows it.
package main

import (
	"fmt"

	"github.com/rdspark/gen/generator/config"
)

func main() { fmt.Println(config.Default().Spec.ArgoCD.Version) }
