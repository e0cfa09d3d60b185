"""A shortened `make demo` on the real local stack: its accounting must pass.

Small volume (about 15 s of traffic at 40 events/s), on a topic, a database and an API port
of this test only: the demo's API and streaming job for that database are its own (not those
of a demo you may be running) and are stopped at the end; the `scratch` fixture then removes
the topic, the tables and their files.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from questline_devkit.process import free_port

pytestmark = [pytest.mark.stack, pytest.mark.timeout(1200)]

QUESTLINE_DEMO = str(Path(sys.executable).parent / "questline-demo")
ACCOUNTING = re.compile(r"([\d,]+) events acknowledged, ([\d,]+) in tables, ([\d,]+) missing, ([\d,]+) duplicated")


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_a_short_demo_accounts_for_every_acknowledged_event(local_stack, scratch, tmp_path):
    env = {
        **os.environ,
        **local_stack.client_env(),
        **scratch.env,
        "QUESTLINE_ARTIFACTS_DIR": str(tmp_path),
        "COLUMNS": "200",
    }
    api_url = f"http://127.0.0.1:{free_port()}"
    flags = ["--api-url", api_url, "--duration", "15", "--players", "30", "--rate", "40", "--no-progress"]
    try:
        demo = subprocess.run([QUESTLINE_DEMO, *flags], capture_output=True, text=True, env=env)
    finally:
        subprocess.run([QUESTLINE_DEMO, "--stop"], capture_output=True, env=env, check=True)
    output = demo.stdout + demo.stderr
    assert demo.returncode == 0, output[-6000:]
    lines = ACCOUNTING.findall(output)
    assert lines, output[-3000:]
    acknowledged, in_tables, missing, duplicated = map(number, lines[-1])
    assert acknowledged > 100
    assert (in_tables, missing, duplicated) == (acknowledged, 0, 0)
    run_dirs = [p for p in tmp_path.iterdir() if (p / "ground-truth.json").exists()]
    assert len(run_dirs) == 1
    assert (run_dirs[0] / "report.html").read_text().count("data:image/png;base64,") >= 2
