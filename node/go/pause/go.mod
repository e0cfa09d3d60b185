// The node's own pause program (no dependencies).
module questline.local/node/pause

go 1.26.0
