"""The chart tests' fixtures (pinned helm, cached renders), reused as they are."""

import importlib.util
import sys
from pathlib import Path

CHART_TESTS = Path(__file__).resolve().parents[1] / "charts"
sys.path.insert(0, str(CHART_TESTS))

_spec = importlib.util.spec_from_file_location("questline_chart_fixtures", CHART_TESTS / "conftest.py")
_chart_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_chart_fixtures)

tools = _chart_fixtures.tools
render = _chart_fixtures.render
