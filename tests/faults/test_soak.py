"""Scenario 6: a bounded soak. Steady simulator load (bounded by time and count, loopback only);
every few seconds the API's resident memory, its latency (from its own /metrics histogram) and
the streaming job's lag (Kafka end offsets minus the offsets of its last committed micro-batch,
read from its checkpoint) are sampled. The curve is printed as
numbers, written as CSV and plotted as a PNG under artifacts/soak/.

Flat means: the last third of the run against the first third after warm-up, as ratios.
`make test-faults` runs 10 minutes (QUESTLINE_SOAK_SECONDS); `make test` 40 seconds.
"""

import csv
import os
import statistics
import time
from pathlib import Path

import httpx
import matplotlib
import pytest
from faultlib import REPO, Simulation, assert_exactly_once, record_row, settle
from prometheus_client.parser import text_string_to_metric_families

from questline_devkit import process

matplotlib.use("Agg")
from matplotlib import pyplot

pytestmark = pytest.mark.timeout(7200)

ARTIFACTS = REPO / "artifacts" / "soak"
SAMPLE_SECONDS = 5
SOAK_SECONDS = float(os.environ.get("QUESTLINE_SOAK_SECONDS", "600"))
SIZES = [
    # `flat`: the largest late/early ratio of API memory and latency that still counts as flat.
    # 40 s is mostly warm-up noise on a shared CI machine; 10 minutes measured 1.00 and 0.91.
    pytest.param({"players": 40, "rate": 30, "duration": 40, "flat": 3.0}, marks=pytest.mark.stack, id="short"),
    pytest.param(
        {"players": 400, "rate": 100, "duration": SOAK_SECONDS, "flat": 1.5}, marks=pytest.mark.faults, id="long"
    ),
]
LATENCY = "questline_api_request_duration_seconds"


def _latency_histogram(api_url: str) -> tuple[float, float, dict[float, float]]:
    """(sum, count, cumulative count per bucket bound) over every route."""
    text = httpx.get(f"{api_url}/metrics", timeout=10).text
    total, count, buckets = 0.0, 0.0, {}
    for family in text_string_to_metric_families(text):
        if family.name != LATENCY:
            continue
        for sample in family.samples:
            if sample.name.endswith("_sum"):
                total += sample.value
            elif sample.name.endswith("_count"):
                count += sample.value
            elif sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return total, count, buckets


def _p99(before: dict[float, float], after: dict[float, float]) -> float:
    """Upper bound of the bucket holding the 99th percentile of the requests in between."""
    deltas = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    n = deltas[-1][1] if deltas else 0
    for bound, cumulative in deltas:
        if n and cumulative >= 0.99 * n:
            return bound
    return float("nan")


def _plot(rows: list[dict], path: Path, title: str) -> None:
    t = [r["t_s"] for r in rows]
    figure, axes = pyplot.subplots(4, 1, figsize=(9, 10), sharex=True)
    for ax, (key, label) in zip(
        axes,
        [
            ("api_rss_mib", "API RSS (MiB, master + workers)"),
            ("latency_mean_ms", "API latency, mean per interval (ms)"),
            ("latency_p99_ms", "API latency, p99 bucket bound (ms)"),
            ("stream_lag", "streaming lag (records past the last commit)"),
        ],
        strict=True,
    ):
        ax.plot(t, [r[key] if r[key] is not None else float("nan") for r in rows], marker=".")
        ax.set_ylabel(label, fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("seconds since the load started")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def _ratio(rows: list[dict], key: str) -> float:
    """Median of the last third over the median of the first third after warm-up (first 20%)."""
    values = [r[key] for r in rows if r[key] is not None]
    warm = values[len(values) // 5 :]
    third = max(1, len(warm) // 3)
    first, last = statistics.median(warm[:third]), statistics.median(warm[-third:])
    return last / first if first else float("inf") if last else 1.0


@pytest.mark.parametrize("size", SIZES)
def test_steady_load_keeps_api_memory_latency_and_stream_lag_flat(faults_stack, run_id, tmp_path, size, results_file):
    stack = faults_stack
    api_pid = stack.api_pid()
    rows = []
    simulation = Simulation(
        stack.api_url, tmp_path, run_id, players=size["players"], rate=size["rate"], duration=size["duration"],
        concurrency=32, max_retries=20,
    )  # fmt: skip
    started = time.monotonic()
    before = _latency_histogram(stack.api_url)
    while simulation.process.poll() is None:
        time.sleep(SAMPLE_SECONDS)
        after = _latency_histogram(stack.api_url)
        requests = after[1] - before[1]
        rows.append(
            {
                "t_s": round(time.monotonic() - started, 1),
                "api_rss_mib": round(process.rss_mib(api_pid), 1),
                "requests": int(requests),
                "latency_mean_ms": round((after[0] - before[0]) / requests * 1000, 2) if requests else None,
                "latency_p99_ms": _p99(before[2], after[2]) * 1000 if requests else None,
                "stream_lag": stack.stream_lag(),
            }
        )
        before = after
    truth = simulation.finish(timeout=60)
    result = settle(stack, truth)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / f"soak-{run_id}"
    with open(stem.with_suffix(".csv"), "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    title = f"soak {run_id}: {size['rate']} events/s target for {size['duration']:.0f}s"
    _plot(rows, stem.with_suffix(".png"), title)
    print(f"\n{title}\n" + " ".join(f"{k:>16}" for k in rows[0]))
    for r in rows:
        print(" ".join(f"{'-' if v is None else v:>16}" for v in r.values()))
    ratios = {key: round(_ratio(rows, key), 2) for key in ("api_rss_mib", "latency_mean_ms")}
    lags = [r["stream_lag"] for r in rows if r["stream_lag"] is not None]
    print(f"last third / first third: {ratios}; stream lag max {max(lags, default=None)}; plot {stem}.png")

    figures = {
        "scenario": f"bounded soak ({size})",
        "load": f"{size['rate']} events/s target, {size['players']} players, {size['duration']:.0f}s",
        "faults": "none",
        "acknowledged": result.acknowledged,
        "in_tables": result.in_tables,
        "missing": len(result.missing),
        "duplicated": len(result.duplicated),
        "notes": f"late/early ratios {ratios}, API RSS {rows[0]['api_rss_mib']}->{rows[-1]['api_rss_mib']} MiB, "
        f"stream lag max {max(lags, default=None)}, plot {stem.relative_to(REPO)}.png",
    }
    record_row(results_file, figures)
    assert len(rows) >= 6, "too few samples to call anything flat"
    assert ratios["api_rss_mib"] < min(size["flat"], 1.5), ratios
    assert ratios["latency_mean_ms"] < size["flat"], ratios
    # Bounded lag: the stream keeps up, so the lag late in the run is no worse than early on.
    early, late = lags[: len(lags) // 2], lags[len(lags) // 2 :]
    assert late and max(late) <= max(3 * max(early, default=0), 5 * size["rate"] * SAMPLE_SECONDS), lags
    assert_exactly_once(result)
