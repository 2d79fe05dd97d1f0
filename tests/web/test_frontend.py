"""The app page's own front end (patentrnn/web/js): built from its sources, speaking the kernel's widget
versions, its JavaScript units, and the preview drawn from the form's defaults. (What it does in a
browser: test_browser_frontend.py.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import ipywidgets
from voila_server import ROOT

from patentrnn.bundle import DEFAULT_MODEL, list_bundles
from patentrnn.serve import frontend
from patentrnn.web import App, preview
from patentrnn.web.app import PageState

LABEXTENSIONS = Path(ipywidgets.__file__).parents[4] / "share" / "jupyter" / "labextensions"


def test_the_front_end_is_built_from_its_sources_as_they_are():
    assert frontend.problem() is None
    record = frontend.built()
    assert record["sources"] == frontend.source_digest()
    assert {Path(name).suffix for name in record["files"]} == {".js", ".css"}
    tags = (frontend.TEMPLATE_DIR / "frontend.html").read_text()
    assert all(f"static/frontend/{name}" in tags for name in record["files"])


def test_a_missing_or_stale_build_is_one_line_saying_how_to_build(tmp_path):
    missing = frontend.problem(build=tmp_path / "static" / "frontend" / "build.json")
    assert "not built" in missing and "pip install -e ." in missing and "\n" not in missing
    sources = tmp_path / "js"
    shutil.copytree(frontend.JS, sources, ignore=shutil.ignore_patterns("node_modules"))
    assert frontend.problem(sources=sources) is None
    (sources / "src" / "app.js").write_text((sources / "src" / "app.js").read_text() + "\n// changed\n")
    stale = frontend.problem(sources=sources)
    assert "older than its sources" in stale and "\n" not in stale


def test_the_bundle_answers_every_widget_the_kernel_makes_in_the_version_it_asks_for():
    modules = frontend.built()["modules"]
    state = App().page_state().state["state"]  # what the page's front end is given
    asked = {(model["model_module"], model["model_module_version"]) for model in state.values()}
    asked |= {(m["state"]["_view_module"], m["state"]["_view_module_version"]) for m in state.values()
              if m["state"].get("_view_name")}  # fmt: skip
    assert {module for module, _ in asked} <= set(modules)
    for module, version in asked:
        want, have = version.lstrip("~^").split("."), modules[module].split(".")
        assert want[0] == have[0] and (want[0] != "0" or want[1] == have[1]), (module, version, modules[module])


def test_the_bundle_pins_the_controls_the_kernels_ipywidgets_ships():
    """jupyterlab_widgets (installed with the kernel's ipywidgets) names the npm packages it was built with."""
    manager = json.loads((LABEXTENSIONS / "@jupyter-widgets" / "jupyterlab-manager" / "package.json").read_text())
    packages = frontend.built()["packages"]
    for name in ("@jupyter-widgets/base", "@jupyter-widgets/base-manager", "@jupyter-widgets/controls"):
        wanted = manager["dependencies"][name].lstrip("^~").split(".")
        assert packages[name].split(".")[:2] == wanted[:2], (name, packages[name], wanted)
    anywidget = json.loads((LABEXTENSIONS / "anywidget" / "package.json").read_text())
    assert packages["anywidget"] == anywidget["version"]


def test_the_front_end_units_pass_under_node():
    result = subprocess.run(["node", "--test", "test/"], cwd=frontend.JS, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "# pass 4" in result.stdout


def test_the_page_state_is_every_widget_in_the_embed_format():
    app = App()
    bundle = PageState(ipywidgets.Widget.get_manager_state(drop_defaults=False))._repr_mimebundle_()
    state = bundle[PageState.MIME]
    assert state["version_major"] == 2
    assert app.container.model_id in state["state"] and app.output.model_id in state["state"]
    assert state["state"][app.output.model_id]["state"]["_esm"], "anywidget's module travels in the page"


def test_the_preview_is_drawn_from_the_forms_defaults_and_models():
    committed = (frontend.TEMPLATE_DIR / "preview.html").read_text()
    assert committed == preview.HEADER + preview.render(list_bundles()), "run python -m patentrnn.web.preview"
    assert f">{DEFAULT_MODEL} (" in committed
    hostile = [{"name": "<script>x</script>", "corpus": "c&d", "test": {}, "titles": False}]
    html = preview.render(hostile)
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;" in html and "c&amp;d" in html
    assert "no models found" in preview.render([])


def test_the_kernel_check_reaches_the_page_through_its_config_not_a_literal():
    from patentrnn.serve.paths import KERNEL_PATH

    script = (frontend.TEMPLATE_DIR / "lost-session.html").read_text()
    assert "config.patentrnnKernelCheck" in script and KERNEL_PATH.strip("/") not in script
    assert (ROOT / "patentrnn" / "jupyter").is_dir()
