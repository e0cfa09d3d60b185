#!/usr/bin/env bash
# Entry point of the questline Spark image (run under tini).
# Spark on Kubernetes starts executor pods with the argument "executor" and cluster-mode driver
# pods with "driver", passing everything else in SPARK_* variables; any other command (spark-submit,
# python -m questline_spark..., a shell) runs as given, which is how the charts start our drivers.
set -euo pipefail

spark_classpath() {
  local classpath="${SPARK_CONF_DIR:-${SPARK_HOME}/conf}:${SPARK_HOME}/jars/*"
  if [[ -n "${HADOOP_CONF_DIR:-}" ]]; then
    classpath="${HADOOP_CONF_DIR}:${classpath}"
  fi
  if [[ -n "${SPARK_EXTRA_CLASSPATH:-}" ]]; then
    classpath="${classpath}:${SPARK_EXTRA_CLASSPATH}"
  fi
  # Spark ships files to the executor's working directory (SPARK-43540).
  echo "${classpath}:${PWD}"
}

case "${1:-}" in
  driver)
    shift
    exec spark-submit \
      --conf "spark.driver.bindAddress=${SPARK_DRIVER_BIND_ADDRESS}" \
      --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=${SPARK_DRIVER_BIND_ADDRESS}" \
      --deploy-mode client \
      "$@"
    ;;
  executor)
    shift
    java_options=()
    for name in "${!SPARK_JAVA_OPT_@}"; do
      java_options+=("${!name}")
    done
    exec "${JAVA_HOME}/bin/java" "${java_options[@]}" \
      -Xms"${SPARK_EXECUTOR_MEMORY}" -Xmx"${SPARK_EXECUTOR_MEMORY}" \
      -cp "$(spark_classpath)" \
      org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
      --driver-url "${SPARK_DRIVER_URL}" \
      --executor-id "${SPARK_EXECUTOR_ID}" \
      --cores "${SPARK_EXECUTOR_CORES}" \
      --app-id "${SPARK_APPLICATION_ID}" \
      --hostname "${SPARK_EXECUTOR_POD_IP}" \
      --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID}" \
      --podName "${SPARK_EXECUTOR_POD_NAME}"
    ;;
  help)
    echo "questline/spark: Spark ${SPARK_VERSION:-} on Java $("${JAVA_HOME}/bin/java" -version 2>&1 | head -1)"
    echo "usage: driver ARGS (Spark's cluster-mode driver pod), executor (Spark's executor pods),"
    echo "       or any command, e.g. spark-submit ..., python -m questline_spark.stream_events_to_hdfs"
    ;;
  "")
    echo "questline-spark: no command given (expected driver, executor, help or a command to run)" >&2
    exit 64
    ;;
  *)
    exec "$@"
    ;;
esac
