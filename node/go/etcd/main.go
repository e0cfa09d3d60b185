// Command etcd is etcd's own entry point, built from the published
// go.etcd.io/etcd/server/v3 module: etcd's root module points its sub-modules
// at local folders and so cannot be built from the module proxy directly.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
