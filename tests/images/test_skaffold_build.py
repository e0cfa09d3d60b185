"""skaffold is built from the wrapper module tools/skaffold (go install refuses skaffold's own module:
its go.mod has replace and exclude directives). The wrapper pins what versions.toml says and repeats
exactly the directives of that release's go.mod; a build refuses a wrapper that disagrees."""

import os
import re
import subprocess

import pytest
import yaml
from imagelib import REPO

from questline_devkit.versions import versions
from questline_kind import settings as kind_settings
from questline_kind import tools

WRAPPER = REPO / tools.SKAFFOLD_WRAPPER


def _directives(go_mod_text: str) -> dict[str, list[str]]:
    """replace and exclude lines of a go.mod (single-line and block form), comments dropped."""
    found = {"replace": [], "exclude": []}
    block = None
    for raw in go_mod_text.splitlines():
        line = raw.split("//")[0].strip()
        if not line:
            continue
        if block:
            if line == ")":
                block = None
            else:
                found[block].append(" ".join(line.split()))
            continue
        match = re.fullmatch(r"(replace|exclude)\s*(\()?\s*(.*)", line)
        if match:
            if match.group(2):
                block = match.group(1)
            else:
                found[match.group(1)].append(" ".join(match.group(3).split()))
    return found


def test_the_wrapper_requires_the_pinned_skaffold_and_builds_it_as_a_tool():
    go_mod = (WRAPPER / "go.mod").read_text()
    assert tools.wrapper_require(WRAPPER / "go.mod", tools.SKAFFOLD_MODULE) == versions()["tools"]["skaffold"]
    assert re.search(rf"^tool {re.escape(tools.SKAFFOLD_PACKAGE)}$", go_mod, re.M)
    go_sum = (WRAPPER / "go.sum").read_text()
    assert f"{tools.SKAFFOLD_MODULE} {versions()['tools']['skaffold']} h1:" in go_sum


def test_the_wrapper_repeats_exactly_the_replace_and_exclude_lines_of_the_release():
    settings = kind_settings.load()
    upstream = tools.go_module(settings, tools.SKAFFOLD_MODULE, versions()["tools"]["skaffold"]) / "go.mod"
    ours = _directives((WRAPPER / "go.mod").read_text())
    theirs = _directives(upstream.read_text())
    assert theirs["replace"] and theirs["exclude"], (
        "the release's go.mod has no directives: is go install possible now?"
    )
    assert ours == theirs


def test_the_directive_parser_reads_both_forms():
    text = "replace a => b v1\nreplace (\n  c => d v2 // why\n)\nexclude e v3\n"
    assert _directives(text) == {"replace": ["a => b v1", "c => d v2"], "exclude": ["e v3"]}


def test_a_wrapper_that_disagrees_with_versions_toml_is_refused(monkeypatch):
    monkeypatch.setattr(tools, "_pin", lambda name: "v2.0.0")
    with pytest.raises(
        tools.ToolError,
        match=r"tools/skaffold/go.mod requires .* v2\.24\.0, versions.toml \[tools\]\.skaffold is v2\.0\.0",
    ):
        tools.build_skaffold(kind_settings.load())


def test_the_build_stamps_version_commit_and_release_date():
    flags = tools.skaffold_ldflags(kind_settings.load(), versions()["tools"]["skaffold"])
    package = f"{tools.SKAFFOLD_MODULE}/pkg/skaffold/version"
    assert f"-X {package}.version={versions()['tools']['skaffold']}" in flags
    assert re.search(rf"-X {re.escape(package)}\.gitCommit=[0-9a-f]{{40}}", flags)
    # The release's commit time, not the build's: two builds of one version link the same bytes.
    assert re.search(rf"-X {re.escape(package)}\.buildDate=\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ", flags)


def test_the_makefile_builds_helm_before_kind_up_uses_it():
    makefile = (REPO / "Makefile").read_text()
    prerequisites = re.search(r"^kind-up:([^#\n]*)", makefile, re.M).group(1).split()
    assert "tools" in prerequisites  # `make tools` runs tools/install.sh, which builds helm


def _built_skaffold() -> str | None:
    settings = kind_settings.load()
    binary = settings.bin_dir / "skaffold"
    stamp = settings.bin_dir / ".skaffold.version"
    if os.access(binary, os.X_OK) and stamp.is_file() and stamp.read_text().strip() == versions()["tools"]["skaffold"]:
        return str(binary)
    return None


@pytest.mark.skipif(_built_skaffold() is None, reason="skaffold not built yet (make kind-tools builds it)")
def test_the_built_skaffold_reports_the_pinned_version_and_renders_our_config(tmp_path):
    skaffold = _built_skaffold()
    version = subprocess.run([skaffold, "version"], capture_output=True, text=True, check=True).stdout.strip()
    assert version == versions()["tools"]["skaffold"]
    # skaffold's own parser and validator accept every profile of skaffold.yaml (no cluster needed).
    for profile in ("kind", "node"):
        result = subprocess.run(
            [skaffold, "diagnose", "--yaml-only", "--profile", profile, "--filename", str(REPO / "skaffold.yaml")],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "SKAFFOLD_UPDATE_CHECK": "false", "HOME": str(tmp_path)},
        )
        assert result.returncode == 0, f"{profile}: {result.stderr}"
        effective = yaml.safe_load(result.stdout)
        releases = {r["name"]: r for r in effective["deploy"]["helm"]["releases"]}
        if profile == "node":  # skaffold applies the profile as tests/images/test_skaffold_node.py reads it
            assert list(releases) == ["questline"]
            assert releases["questline"]["setValues"]["kafka.mode"] == "plain"
            assert all("custom" in a for a in effective["build"]["artifacts"])
        else:
            assert list(releases) == ["strimzi", "questline"]
