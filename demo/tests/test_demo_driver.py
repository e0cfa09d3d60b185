"""The main job drives the pipeline's packages through their public functions only."""

import ast
from pathlib import Path

import questline_demo
from questline_demo import cli

SOURCES = sorted(Path(questline_demo.__file__).parent.glob("*.py"))


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_the_driver_imports_no_private_name_and_no_other_packages_cli():
    for path in SOURCES:
        for module, names in _imports(path):
            if module.split(".")[0] == "questline_demo" or not module.startswith("questline_"):
                continue
            parts = module.split(".")
            assert not any(p.startswith("_") for p in parts), f"{path.name} imports private module {module}"
            assert "cli" not in parts, f"{path.name} imports {module}: another program's command line"
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{path.name} imports private {private} from {module}"


def test_help_says_how_to_run_and_stop_it(capsys):
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "questline-demo --stop" in text and "questline-loadgen --help" in text


def test_a_demo_over_another_database_has_processes_of_its_own():
    from questline_demo import driver

    assert driver.demo_processes("questline") == ("api", "stream-events-to-hdfs")
    api, stream = driver.demo_processes("questline_test_demo_1_ab")
    assert (api, stream) == ("api-questline_test_demo_1_ab", "stream-events-to-hdfs-questline_test_demo_1_ab")
