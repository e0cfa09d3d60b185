"""Run a local Kubernetes cluster: the one-node cluster (questline-node) or the API server alone
(questline-apiserver)."""
