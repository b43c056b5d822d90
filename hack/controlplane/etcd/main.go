// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3.
//
// etcd's own main package lives in the root module go.etcd.io/etcd/v3, whose
// replace directives make `go install` fail, so this wrapper module depends on
// the server library instead and calls the same entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
