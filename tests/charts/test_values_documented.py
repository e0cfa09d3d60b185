"""Every value is documented by a comment right above it (trinodb/charts' convention),
so the documentation lives where the value does and cannot drift."""

import re

import pytest
from chartlib import CHART

# Children of these keys are self-explanatory (cpu, memory) or free-form maps whose keys
# are the names of upstream settings (topic config, annotations, extra settings).
SELF_EXPLANATORY_PARENTS = {"requests", "limits", "config", "annotations", "extraSettings", "resources"}
KEY = re.compile(r"^(?P<indent>\s*)(?P<item>- )?(?P<key>[A-Za-z0-9_.-]+):")

VALUES_FILES = [CHART / "values.yaml", *sorted(CHART.glob("charts/*/values.yaml"))]


def undocumented(text: str) -> list[str]:
    lines = text.splitlines()
    parents: list[tuple[int, str]] = []
    missing = []
    for i, line in enumerate(lines):
        match = KEY.match(line)
        if not match:
            continue
        indent = len(match["indent"]) + (2 if match["item"] else 0)
        while parents and parents[-1][0] >= indent:
            parents.pop()
        previous = lines[i - 1].strip() if i else ""
        documented = previous.startswith(("#", "- #"))
        parent = parents[-1][1] if parents else ""
        if not documented and not (parent in SELF_EXPLANATORY_PARENTS or parent.endswith("Resources")):
            missing.append(f"line {i + 1}: {line.strip()}")
        parents.append((indent, match["key"]))
    return missing


@pytest.mark.parametrize("path", VALUES_FILES, ids=[str(p.relative_to(CHART)) for p in VALUES_FILES])
def test_every_value_has_a_comment_above_it(path):
    assert undocumented(path.read_text()) == []


def test_the_documentation_check_finds_an_undocumented_value():
    assert undocumented("# documented\na: 1\nb: 2\n") == ["line 3: b: 2"]
