"""values-kind.yaml fits a laptop: at most 4 CPU and 12 GiB requested in total, counting
every workload, hook Job and Kafka node the chart renders plus the Spark executors its
drivers start (helm test pods are transient and not counted), with Kafka in either mode:
Strimzi's (node pools and the topic operator) or plain (the StatefulSet and the topic Job)."""

import re

import pytest
from chartlib import is_helm_test, pod_specs, replicas

pytestmark = pytest.mark.charts

CPU_BUDGET = 4.0
MEMORY_BUDGET_GIB = 12.0

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_JVM = {"m": 2**20, "g": 2**30}


def cpu(quantity) -> float:
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def memory_bytes(quantity: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi|Ti)", quantity)
    assert match, f"unexpected memory quantity {quantity!r}"
    return float(match[1]) * _BINARY[match[2]]


def jvm_bytes(size: str) -> float:
    return float(size[:-1]) * _JVM[size[-1]]


def requested(resources) -> dict[str, tuple[float, float]]:
    """Name -> (CPU, bytes) requested, per component."""
    totals: dict[str, tuple[float, float]] = {}

    def add(name, count, cpu_request, memory_request):
        c, m = totals.get(name, (0.0, 0.0))
        totals[name] = (c + count * cpu_request, m + count * memory_request)

    spark_drivers = 0
    executor = None
    for r in resources:
        if is_helm_test(r):
            continue
        name = f"{r['kind']}/{r['metadata']['name']}"
        for spec in pod_specs(r):
            # Init containers run before the others and request no more than them.
            for c in spec["containers"]:
                req = c["resources"]["requests"]
                add(name, replicas(r), cpu(req["cpu"]), memory_bytes(req["memory"]))
            if any(c["name"] == "driver" for c in spec["containers"]):
                spark_drivers += 1
        if r["kind"] == "KafkaNodePool":
            req = r["spec"]["resources"]["requests"]
            add(name, r["spec"]["replicas"], cpu(req["cpu"]), memory_bytes(req["memory"]))
        if r["kind"] == "Kafka":
            req = r["spec"]["entityOperator"]["topicOperator"]["resources"]["requests"]
            add(name + " topic operator", 1, cpu(req["cpu"]), memory_bytes(req["memory"]))
        if r["kind"] == "ConfigMap" and "spark-defaults.conf" in r.get("data", {}):
            executor = dict(
                line.split(None, 1) for line in r["data"]["spark-defaults.conf"].splitlines() if line.strip()
            )
    if executor:
        per_executor_memory = jvm_bytes(executor["spark.executor.memory"]) + jvm_bytes(
            executor["spark.executor.memoryOverhead"]
        )
        add(
            "Spark executors",
            spark_drivers * int(executor["spark.executor.instances"]),
            cpu(executor["spark.kubernetes.executor.request.cores"]),
            per_executor_memory,
        )
    return totals


@pytest.mark.parametrize("sets", [(), ("kafka.mode=plain",)], ids=["strimzi", "plain"])
def test_kind_values_request_at_most_4_cpu_and_12_gib(render, sets):
    _, resources = render(("values-kind.yaml",), sets)
    totals = requested(resources)
    total_cpu = sum(c for c, _ in totals.values())
    total_gib = sum(m for _, m in totals.values()) / 2**30
    for name, (c, m) in sorted(totals.items()):
        print(f"{name:55s} {c:5.2f} CPU {m / 2**30:6.2f} GiB")
    print(f"{'total':55s} {total_cpu:5.2f} CPU {total_gib:6.2f} GiB")
    assert total_cpu <= CPU_BUDGET
    assert total_gib <= MEMORY_BUDGET_GIB
    # Every part of the stack is counted: the sum is not trivially small.
    kafka_nodes = "StatefulSet/questline-dual" if sets else "KafkaNodePool/dual"
    assert kafka_nodes in totals
    assert "Spark executors" in totals


def test_plain_kafka_requests_what_the_node_pool_says(render):
    # Plain mode runs nodePools[0] itself: the same requests as the Strimzi node pool, plus the
    # topic Job in place of the topic operator.
    _, strimzi = render(("values-kind.yaml",))
    _, plain = render(("values-kind.yaml",), ("kafka.mode=plain",))
    assert requested(plain)["StatefulSet/questline-dual"] == requested(strimzi)["KafkaNodePool/dual"]
    assert any(name.startswith("Job/questline-kafka-topics-") for name in requested(plain))


def test_the_budget_check_counts_executors(render):
    _, few = render(("values-kind.yaml",))
    _, many = render(("values-kind.yaml",), ("sparkApps.executor.instances=4",))
    assert requested(many)["Spark executors"][1] == 4 * requested(few)["Spark executors"][1]


def test_production_values_exceed_the_laptop_budget(render):
    # Sanity of the arithmetic: the production example must not fit a laptop.
    _, resources = render(("values-production.yaml",))
    assert sum(c for c, _ in requested(resources).values()) > CPU_BUDGET


def test_jvm_heaps_fit_inside_their_pod_memory_limits(render):
    _, resources = render(("values-kind.yaml",))
    for r in resources:
        if r["kind"] == "KafkaNodePool":
            heap = jvm_bytes(r["spec"]["jvmOptions"]["-Xmx"])
            assert heap < memory_bytes(r["spec"]["resources"]["limits"]["memory"]), r["metadata"]["name"]
        for spec in pod_specs(r):
            for c in spec["containers"]:
                heaps = re.findall(r"-Xmx([0-9]+[mg])", " ".join(str(e.get("value", "")) for e in c.get("env", [])))
                for heap in heaps:
                    assert jvm_bytes(heap) < memory_bytes(c["resources"]["limits"]["memory"]), r["metadata"]["name"]


def _trino_memory_bytes(size: str) -> float:
    return float(size[:-2]) * {"MB": 2**20, "GB": 2**30}[size[-2:]]


@pytest.mark.parametrize(
    "files", [("values-kind.yaml",), ("values-production.yaml",), ()], ids=["kind", "production", "default"]
)
def test_trino_query_memory_and_headroom_fit_the_heap(render, files):
    # Trino refuses to start when query.max-memory-per-node plus the heap headroom
    # (30% of the heap by default) exceeds the heap.
    _, resources = render(files)
    configs = [r for r in resources if r["kind"] == "ConfigMap" and "jvm.config" in r.get("data", {})]
    assert configs
    for config in configs:
        heap = jvm_bytes(re.search(r"^-Xmx(\S+)$", config["data"]["jvm.config"], re.M)[1])
        properties = dict(
            line.split("=", 1) for line in config["data"]["config.properties"].splitlines() if "=" in line
        )
        per_node = _trino_memory_bytes(properties["query.max-memory-per-node"])
        assert per_node + 0.3 * heap <= heap, config["metadata"]["name"]


# Spark refuses a driver or executor JVM whose usable heap is under 1.5 x its 300 MiB reserve
# (INVALID_DRIVER_MEMORY / INVALID_EXECUTOR_MEMORY: "System memory 389283840 must be at least
# 471859200" with 384m, seen on the one-node cluster). The JVM reports a little under -Xmx.
SPARK_MIN_HEAP = 471859200 / 0.95


@pytest.mark.parametrize(
    "files", [("values-kind.yaml",), ("values-production.yaml",), ()], ids=["kind", "production", "default"]
)
def test_spark_heaps_are_above_sparks_floor(render, files):
    _, resources = render(files)
    conf = next(r for r in resources if r["kind"] == "ConfigMap" and "spark-defaults.conf" in r.get("data", {}))
    defaults = dict(line.split(None, 1) for line in conf["data"]["spark-defaults.conf"].splitlines() if line.strip())
    assert jvm_bytes(defaults["spark.executor.memory"]) >= SPARK_MIN_HEAP
    drivers = [
        e["value"]
        for r in resources
        for spec in pod_specs(r)
        for c in spec["containers"]
        if c["name"] == "driver"
        for e in c.get("env", [])
        if e["name"] == "QUESTLINE_SPARK_DRIVER_MEMORY"
    ]
    assert drivers, "no Spark driver container with QUESTLINE_SPARK_DRIVER_MEMORY rendered"
    for heap in drivers:
        assert jvm_bytes(heap) >= SPARK_MIN_HEAP, f"driver heap {heap} is under Spark's floor"
