// Command gen renders and bootstraps a local Apache Spark platform run the
// GitOps way. See gen --help.
package main

import "github.com/rdspark/gen/cmd/gen/app"

func main() { app.Main() }
