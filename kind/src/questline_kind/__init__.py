"""questline on a laptop: a kind cluster, the pinned tools it needs, and the smoke test of the deployed stack."""
