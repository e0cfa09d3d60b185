#!/bin/bash
# questline/kafka entry point (docs/images.md: the env contract).
#   kafka (default)  write KAFKA_CONFIG_DIR/server.properties from defaults + KAFKA_* variables,
#                    format the data dir once (never again), run the KRaft server in the foreground
#   anything else    runs as given (e.g. bash, java -cp '/opt/kafka/libs/*' ...)
# Variables: KAFKA_<KEY> -> <key> (strip KAFKA_, lowercase, ___ -> -, __ -> _, _ -> .), as the
# official apache/kafka image maps them; KAFKA_CLUSTER_ID (the id to format with; random if unset),
# KAFKA_INITIAL_CONTROLLERS (format's --initial-controllers for a dynamic multi-controller quorum),
# KAFKA_FORMAT_ADD_SCRAM (format's --add-scram, e.g. SCRAM-SHA-512=[name=admin,password=...]: a user
# that must exist before the brokers start, such as the inter-broker one),
# KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_OPTS, KAFKA_CONFIG_DIR, KAFKA_LOG4J_ROOT_LOGLEVEL.
set -euo pipefail

log() { echo "kafka-entrypoint: $*" >&2; }

if [[ "${1:-kafka}" != "kafka" ]]; then
  exec "$@"
fi

home="${KAFKA_HOME:-/opt/kafka}"
config_dir="${KAFKA_CONFIG_DIR:-/tmp/kafka}"
# Variables that configure this script or the JVM, not server.properties.
not_properties=" KAFKA_CLUSTER_ID KAFKA_INITIAL_CONTROLLERS KAFKA_FORMAT_ADD_SCRAM KAFKA_CONFIG_DIR KAFKA_HOME KAFKA_VERSION KAFKA_HEAP_OPTS
  KAFKA_JVM_PERFORMANCE_OPTS KAFKA_OPTS KAFKA_LOG4J_OPTS KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_GC_LOG_OPTS KAFKA_JMX_OPTS "

# A single combined node on localhost unless the variables say otherwise.
declare -A props=(
  [process.roles]="broker,controller"
  [node.id]="1"
  [listeners]="PLAINTEXT://:9092,CONTROLLER://:9093"
  [advertised.listeners]="PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093"
  [controller.listener.names]="CONTROLLER"
  [inter.broker.listener.name]="PLAINTEXT"
  [listener.security.protocol.map]="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  [controller.quorum.bootstrap.servers]="localhost:9093"
  [log.dirs]="/var/lib/kafka/data"
  # Topics are declared, never auto-created: a typo must fail, not create a topic.
  [auto.create.topics.enable]="false"
  [offsets.topic.replication.factor]="1"
  [transaction.state.log.replication.factor]="1"
  [transaction.state.log.min.isr]="1"
  [share.coordinator.state.topic.replication.factor]="1"
  [share.coordinator.state.topic.min.isr]="1"
  [group.initial.rebalance.delay.ms]="0"
)
explicit_bootstrap=false
while IFS='=' read -r name _; do
  # (the list spans two lines: a name before the line break counts too)
  [[ "${name}" == KAFKA_* && "${not_properties//$'\n'/ }" != *" ${name} "* ]] || continue
  key="${name#KAFKA_}"
  key="${key,,}"
  key="${key//___/-}"
  key="${key//__/@}"
  key="${key//_/.}"
  key="${key//@/_}"
  props[${key}]="${!name}"
  [[ "${key}" == controller.quorum.bootstrap.servers ]] && explicit_bootstrap=true
done < <(env)
# A static quorum (controller.quorum.voters) replaces the default dynamic bootstrap.
if [[ -n "${props[controller.quorum.voters]:-}" && "${explicit_bootstrap}" == false ]]; then
  unset 'props[controller.quorum.bootstrap.servers]'
fi

mkdir -p "${config_dir}"
config="${config_dir}/server.properties"
: >"${config}"
for key in $(printf '%s\n' "${!props[@]}" | sort); do
  printf '%s=%s\n' "${key}" "${props[${key}]}" >>"${config}"
done

java=(java ${KAFKA_HEAP_OPTS:--Xmx512m -Xms512m}
  ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}
  "-Dlog4j2.configurationFile=${home}/config/log4j2.properties" ${KAFKA_OPTS:-} -cp "${home}/libs/*")

# Formatted once: meta.properties in the (first) log dir marks a formatted directory.
data_dir="${props[metadata.log.dir]:-${props[log.dirs]%%,*}}"
if [[ ! -f "${data_dir}/meta.properties" ]]; then
  cluster_id="${KAFKA_CLUSTER_ID:-}"
  if [[ -z "${cluster_id}" ]]; then
    cluster_id="$("${java[@]}" kafka.tools.StorageTool random-uuid)"
    log "KAFKA_CLUSTER_ID is not set: formatting with a new random id ${cluster_id}"
  fi
  format=(format --ignore-formatted -t "${cluster_id}" -c "${config}")
  if [[ -n "${KAFKA_FORMAT_ADD_SCRAM:-}" ]]; then
    format+=(--add-scram "${KAFKA_FORMAT_ADD_SCRAM}")
  fi
  if [[ ",${props[process.roles]}," == *,controller,* && -z "${props[controller.quorum.voters]:-}" ]]; then
    if [[ -n "${KAFKA_INITIAL_CONTROLLERS:-}" ]]; then
      format+=(--initial-controllers "${KAFKA_INITIAL_CONTROLLERS}")
    else
      format+=(--standalone)
    fi
  fi
  log "formatting ${data_dir} (cluster ${cluster_id})"
  # The tool prints the bootstrap records, SCRAM keys included: never into the log.
  if ! out="$("${java[@]}" kafka.tools.StorageTool "${format[@]}" 2>&1)"; then
    grep -v '^Bootstrap metadata' <<<"${out}" >&2
    exit 1
  fi
  grep -v '^Bootstrap metadata' <<<"${out}" >&2 || true
fi

# shellcheck disable=SC2093
exec "${java[@]}" kafka.Kafka "${config}"
