"""Scenario 2: the streaming driver is SIGKILLed at random points, several times, under load.

Its supervisor (the fixture's stand-in for the Kubernetes Deployment) starts it again, and it
resumes from its checkpoint: every acknowledged event is in the tables exactly once.
"""

import random
import time

import pytest
from faultlib import STREAM, Simulation, assert_exactly_once, record_row, settle, wait_for

pytestmark = pytest.mark.timeout(3600)

SIZES = [
    pytest.param({"players": 30, "rate": 25, "duration": 45, "kills": 1}, marks=pytest.mark.stack, id="short"),
    pytest.param({"players": 300, "rate": 100, "duration": 420, "kills": 4}, marks=pytest.mark.faults, id="long"),
]


@pytest.mark.parametrize("size", SIZES)
def test_streaming_driver_sigkilled_at_random_points_restarts_from_its_checkpoint_exactly_once(
    faults_stack, run_id, tmp_path, size, results_file
):
    stack = faults_stack
    rng = random.Random(run_id)
    simulation = Simulation(
        stack.api_url, tmp_path, run_id, players=size["players"], rate=size["rate"], duration=size["duration"],
        concurrency=16, max_retries=20,
    )  # fmt: skip
    restarts_before = stack.supervisor.restarts
    kill_points = []
    for _ in range(size["kills"]):
        wait_for(lambda: stack.stream_pid() is not None, 120, "the streaming driver to run")
        started = time.monotonic()
        # Anywhere from JVM start-up to several micro-batches in (2 s trigger).
        time.sleep(rng.uniform(5, size["duration"] / size["kills"]))
        pid = stack.kill(STREAM)
        kill_points.append(f"pid {pid} after {time.monotonic() - started:.0f}s")
    truth = simulation.finish(timeout=size["duration"] + 900)
    result = settle(stack, truth)

    figures = {
        "scenario": f"streaming driver SIGKILL x{size['kills']} ({size})",
        "load": f"{size['rate']} events/s target, {size['players']} players, {size['duration']}s",
        "faults": f"{size['kills']} driver SIGKILL at random points: {', '.join(kill_points)}",
        "acknowledged": result.acknowledged,
        "in_tables": result.in_tables,
        "missing": len(result.missing),
        "duplicated": len(result.duplicated),
        "notes": f"driver restarts {stack.supervisor.restarts - restarts_before}, "
        f"unknown outcome {truth['totals']['unknown']}, retries {truth['totals']['retries']}",
    }
    print(figures)
    record_row(results_file, figures)
    assert stack.supervisor.restarts - restarts_before >= size["kills"]
    assert_exactly_once(result)
