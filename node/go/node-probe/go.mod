// The node tests' own small program (no dependencies): an HTTP server, an HTTP
// client with Go's own DNS resolver, and a memory hog. Lives in the node's test image.
module questline.local/node/node-probe

go 1.26.0
