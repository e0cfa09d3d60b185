"""A real kube-apiserver and etcd on loopback: built once from the Go module proxy, started on demand."""
