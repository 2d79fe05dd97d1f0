"""environment.yml (Binder, conda) names the same packages as pyproject.toml, with CPU TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_matches_pyproject_and_pins_cpu_tensorflow():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["name"] == "patentrnn"
    pip_section = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["train"]
    assert sorted(pip_section) == sorted(wanted)
    assert any(item.startswith("tensorflow-cpu") for item in pip_section)
    assert not any(item.startswith("tensorflow") and not item.startswith("tensorflow-cpu") for item in pip_section)
    assert "python=3.11" in environment["dependencies"]
    assert "pip install --no-deps -e ." in (ROOT / "postBuild").read_text()


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert {path.name for path in notebooks} >= {"app.ipynb", "train.ipynb", "explore.ipynb"}
    for path in notebooks:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} has outputs"


def test_readme_has_both_binder_badges():
    readme = (ROOT / "README.md").read_text()
    assert (
        "urlpath=voila%2Frender%2Fnotebooks%2Fapp.ipynb" in readme
        or "urlpath=voila/render/notebooks/app.ipynb" in readme
    )
    assert "urlpath=lab" in readme
