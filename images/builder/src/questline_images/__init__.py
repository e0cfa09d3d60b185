"""questline's image builder: one Debian base (debootstrap here, Docker Hub's Debian image on a
laptop), the Dockerfiles under images/<name>/ and their build args from versions.toml."""
