#!/usr/bin/env bash
# Install the tools that validate the Helm charts offline, pinned in versions.toml
# ([tools], [kubernetes], [strimzi]), into ${QUESTLINE_CACHE}:
#   bin/helm, bin/kubeconform           built once with `go install` (CPU-heavy: minutes)
#   schemas/kubernetes-v<version>/      Kubernetes JSON schemas laid out for kubeconform
#   schemas/strimzi-<version>/          Strimzi CRDs and their JSON schemas
# Idempotent: a stamp file per item records what was installed; a pin change reinstalls.
# Prints the environment a caller needs (QUESTLINE_HELM=..., ...) on its last lines.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${QUESTLINE_CACHE:-$HOME/.cache/questline}
BIN=$CACHE/bin
PY=${QUESTLINE_PYTHON:-$ROOT/.venv/bin/python}

log() { echo "[tools] $*" >&2; }

if [[ ! -x $PY ]]; then
  log "$PY not found: run \`make venv\` first (the schema step needs the project's virtualenv)"
  exit 1
fi

pin() { "$PY" -c 'import sys; from questline_devkit.versions import versions; print(versions()[sys.argv[1]][sys.argv[2]])' "$1" "$2"; }

HELM_VERSION=$(pin tools helm)
KUBECONFORM_VERSION=$(pin tools kubeconform)

mkdir -p "$BIN"
# Several engineers (and CI) may run the tests at once: one installer at a time.
exec 9>"$CACHE/tools.lock"
flock 9

# go_install NAME VERSION PACKAGE [LDFLAGS]: build NAME unless the stamp says VERSION is there.
go_install() {
  local name=$1 version=$2 package=$3 ldflags=${4:-}
  local stamp=$BIN/.$name.version
  if [[ -x $BIN/$name && -f $stamp && $(<"$stamp") == "$version" ]]; then
    return
  fi
  if ! command -v go >/dev/null; then
    log "go not found: install Go >= 1.26 to build $name $version"
    exit 1
  fi
  log "building $name $version with go install (a few minutes on 2 cores; once per version)"
  GOFLAGS=-mod=mod GOPATH=$CACHE/go GOCACHE=$CACHE/gocache GOBIN=$BIN \
    nice go install -trimpath -ldflags "$ldflags" "$package@$version"
  echo "$version" >"$stamp"
}

go_install kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform \
  "-X main.version=$KUBECONFORM_VERSION"
# helm reports its version from a linker variable; without it `helm version` says v4.x-unreleased.
go_install helm "$HELM_VERSION" helm.sh/helm/v4/cmd/helm \
  "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"

"$PY" "$ROOT/tools/schemas.py"

echo "QUESTLINE_HELM=$BIN/helm"
echo "QUESTLINE_KUBECONFORM=$BIN/kubeconform"
