"""Serving many visitors: ``patentrnn serve`` as production runs it.

Kernels are counted through the server (its sessions endpoint), never by process names.
Unit tests first, then a server per behaviour that needs its own settings.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from conftest import run_cli
from page_client import PageClient
from voila_server import get, sessions, voila_app, wait_for

from patentrnn import serve as serving
from patentrnn.ratelimit import RateLimit
from patentrnn.serve import HEALTH_PATH, KERNEL_PATH, ServeConfig, config_from


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


# --- units ---------------------------------------------------------------------------------


def test_rate_limit_allows_a_burst_then_its_rate():
    clock = Clock()
    limit = RateLimit(rate=2.0, burst=3, clock=clock)
    assert [limit.allow() for _ in range(5)] == [True, True, True, False, False]
    clock.now += 0.5  # one token back
    assert [limit.allow() for _ in range(2)] == [True, False]
    clock.now += 60  # refills to the burst, no further
    assert sum(limit.allow() for _ in range(10)) == 3


@pytest.mark.parametrize("rate, burst", [(0, 5), (-1, 5), (float("nan"), 5), (2, 0), (2, 1.5), ("2", 5)])
def test_rate_limit_rejects_bad_settings(rate, burst):
    with pytest.raises(ValueError):
        RateLimit(rate=rate, burst=burst)


def test_rate_limit_reads_its_environment():
    assert RateLimit.from_env({"PATENTRNN_RATE": "0.5", "PATENTRNN_BURST": "2"}) == RateLimit(0.5, 2)
    assert RateLimit.from_env({}) == RateLimit()
    with pytest.raises(ValueError, match="PATENTRNN_BURST"):
        RateLimit.from_env({"PATENTRNN_BURST": "lots"})


def test_app_drops_clicks_beyond_the_rate_and_queues_nothing(tiny_env):
    from patentrnn.web import App

    app = App()
    clock = Clock()
    app.limit = RateLimit(rate=1.0, burst=2, clock=clock)
    runs = []  # a generation disables the button while it works; a dropped click does not
    app.form.button.observe(lambda change: runs.append(change["new"]), names="disabled")
    results = []
    for _ in range(10):
        app.form.button.click()
        results.append(app.result)
    assert runs.count(True) == 2 and len({id(result) for result in results}) == 2
    assert "Too many clicks" in app.status.value and app.form.button.disabled is False
    clock.now += 1.0
    app.form.button.click()
    assert runs.count(True) == 3 and app.result is not results[-1] and "Too many clicks" not in app.status.value


def test_options_come_from_arguments_then_environment_then_defaults():
    from patentrnn.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "9001", "--pool-size", "0"])
    environ = {"PATENTRNN_PORT": "9002", "PATENTRNN_MAX_SESSIONS": "7", "PATENTRNN_BASE_URL": "/app/"}
    config = config_from(args, environ)
    assert (config.port, config.pool_size, config.max_sessions, config.base_url) == (9001, 0, 7, "/app/")
    assert config.host == ServeConfig.host and config.cull_idle_timeout == ServeConfig.cull_idle_timeout
    help_text = run_cli("serve", "--help").stdout
    for name, (env, _) in serving.OPTIONS.items():
        assert f"--{name.replace('_', '-')}" in help_text and f"${env}" in help_text


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"PATENTRNN_PORT": "eighty"}, "PATENTRNN_PORT"),
        ({"PATENTRNN_PORT": "70000"}, "port"),
        ({"PATENTRNN_BASE_URL": "app"}, "base URL"),
        ({"PATENTRNN_MAX_SESSIONS": "-1"}, "max sessions"),
        ({"PATENTRNN_CULL_IDLE_TIMEOUT": "0"}, "cull"),
        ({"PATENTRNN_RATE": "0"}, "rate"),
    ],
)
def test_bad_settings_are_one_clear_error(environ, message):
    with pytest.raises(ValueError, match=message):
        config_from(None, environ)


def test_default_session_limit_follows_memory():
    assert serving.default_max_sessions(512 + 64 * 100) == 100
    assert serving.default_max_sessions(100) == 1
    assert ServeConfig(max_sessions=0).session_limit == serving.default_max_sessions() >= 1
    assert ServeConfig(max_sessions=3).session_limit == 3


def test_voila_runs_the_repository_config_and_template():
    argv = serving.voila_argv(ServeConfig(port=9100, max_sessions=5, pool_size=2))
    assert argv[0].endswith("notebooks/app.ipynb")
    assert f"--Voila.config_file_paths={serving.PROJECT_ROOT}" in argv and "--VoilaServer.max_sessions=5" in argv
    assert "--VoilaConfiguration.default_pool_size=2" in argv and "--MappingKernelManager.cull_connected=False" in argv
    # the pool size has one definition, ServeConfig's (plain Voilà on Binder keeps Voilà's default of 1)
    assert "default_pool_size" not in (serving.PROJECT_ROOT / "voila.json").read_text()
    template = serving.TEMPLATES / "voila" / "templates" / serving.TEMPLATE
    assert (template / "static" / Path(HEALTH_PATH).name).is_file()
    assert json.loads((template / "conf.json").read_text())["base_template"] == "lab"
    config = json.loads((serving.PROJECT_ROOT / "voila.json").read_text())
    assert config["VoilaConfiguration"]["template"] == serving.TEMPLATE, "Binder reads voila.json"


def test_the_template_is_linked_where_jupyter_finds_it():
    """Binder's Voilà extension reads voila.json's template from the Jupyter data path: postBuild links
    it into sys.prefix/share/jupyter, as `make` does for .venv (where the Binder-path test runs)."""
    from voila.paths import collect_template_paths

    assert "share/jupyter/voila/templates" in (serving.PROJECT_ROOT / "postBuild").read_text()
    template = serving.TEMPLATES / "voila" / "templates" / serving.TEMPLATE
    found = [Path(path).resolve() for path in collect_template_paths(["voila"], serving.TEMPLATE)]
    assert template.resolve() in found, found


def test_voilas_pool_refills_without_delay():
    """voila.json's VoilaKernelManager section reaches Voilà's pool: the class of that name
    has a configurable fill_delay (a renamed class or trait would silently drop the 0)."""
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from voila.voila_kernel_manager import voila_kernel_manager_factory

    config = json.loads((serving.PROJECT_ROOT / "voila.json").read_text())
    manager = voila_kernel_manager_factory(AsyncMappingKernelManager, True, 2)
    assert manager.__name__ in config and config[manager.__name__] == {"fill_delay": 0}
    assert manager.class_traits(config=True)["fill_delay"].default_value == 1  # Voilà's own default


def test_readme_names_the_health_check_and_the_serving_command():
    readme = (serving.PROJECT_ROOT / "README.md").read_text()
    assert HEALTH_PATH in readme and "patentrnn serve" in readme and "PATENTRNN_MAX_SESSIONS" in readme


# --- a served app ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    """Production's settings (kernels culled 120 s after their tab lost its connection)."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with voila_app(log_path=log, args=("--max-sessions", "20")) as (url, process):
        yield url, log


@pytest.fixture(scope="module")
def small_server(data_dir, tmp_path_factory):
    """Two sessions at most, no preheated kernel (each visitor's is started for them), disconnected
    kernels culled after 3 s idle, checked every second."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    args = ("--max-sessions", "2", "--pool-size", "0", "--cull-idle-timeout", "3", "--cull-interval", "1")
    with voila_app(log_path=log, args=args) as (url, process):
        yield url


def kernel_status(url: str, kernel_id: str) -> int:
    return get(url.rstrip("/") + KERNEL_PATH + kernel_id)[0]


def open_page(browser, url):
    """A tab in a window of its own (closing a page made by ``browser.new_page`` closes its
    context at once, which cancels the unload beacon a real tab would send)."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url, timeout=60_000)
    page.locator(".patentrnn-generate").wait_for(state="visible", timeout=60_000)
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    return page, config["kernelId"]


@pytest.mark.slow
def test_health_check_is_a_static_file_that_starts_no_kernel(server):
    url, _ = server
    before = sessions(url)
    for _ in range(5):
        status, headers, body = get(url.rstrip("/") + HEALTH_PATH)
        assert status == 200 and body.strip() == b"ok"
    assert sessions(url)["kernels"] == before["kernels"] and sessions(url)["sessions"] == before["sessions"]


@pytest.mark.slow
@pytest.mark.browser
def test_closing_a_tab_with_unload_shuts_its_kernel_down(server, browser):
    url, log = server
    before = sessions(url)["sessions"]
    page, kernel_id = open_page(browser, url)
    assert kernel_status(url, kernel_id) == 204 and sessions(url)["sessions"] == before + 1
    started = time.monotonic()
    page.close(run_before_unload=True)
    wait_for(lambda: kernel_status(url, kernel_id) == 410, timeout=5, what="the closed tab's kernel to shut down")
    print(f"closed tab's kernel shut down after {time.monotonic() - started:.2f} s")
    assert sessions(url)["sessions"] == before
    assert not re.search(r"403 POST /voila/api/shutdown", log.read_text()), "the unload beacon was refused"
    page.context.close()


@pytest.mark.slow
def test_the_unload_beacon_still_needs_its_xsrf_token(server):
    url, log = server
    page = PageClient(url)
    try:
        page.xsrf = "forged"
        assert page.unload() == 403
        assert kernel_status(url, page.kernel_id) == 204
        wait_for(lambda: f"403 POST /voila/api/shutdown/{page.kernel_id}" in log.read_text(), 5, "the 403 in the log")
    finally:
        page.xsrf = next(c.split("=", 1)[1] for c in page.cookie.split("; ") if c.startswith("_xsrf="))
        page.close()
    assert kernel_status(url, page.kernel_id) == 410


@pytest.mark.slow
def test_a_lost_tab_is_culled_and_a_connected_idle_one_is_not(small_server):
    """This server culls after 3 s idle, checked every second (production: 120 s and 30 s)."""
    url = small_server
    with PageClient(url) as kept:
        lost = PageClient(url)
        lost.close(unload=False)  # the tab vanished: no beacon
        wait_for(lambda: kernel_status(url, lost.kernel_id) == 410, timeout=15, what="the lost tab's kernel culled")
        time.sleep(3)  # the kept tab has now idled longer than the cull timeout, connected
        assert kernel_status(url, kept.kernel_id) == 204
        kept.generate()


@pytest.mark.slow
def test_a_restarted_kernel_no_longer_serves_its_page(server):
    url, _ = server
    with PageClient(url) as page:
        pid = kernel_pid(page.kernel_id)
        os.kill(pid, 9)  # the kernel dies; jupyter_client restarts it without the page's widgets
        wait_for(lambda: kernel_status(url, page.kernel_id) == 410, timeout=30, what="the restart to be noticed")


def kernel_pid(kernel_id: str) -> int:
    """The kernel process whose connection file names ``kernel_id`` (only to kill it)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"kernel-{kernel_id}.json" in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    return int(entry.name)
            except OSError:
                continue
    raise AssertionError(f"no process for kernel {kernel_id}")


@pytest.mark.slow
@pytest.mark.browser
def test_a_page_whose_kernel_was_shut_down_says_so_on_the_next_click(server, browser):
    url, _ = server
    page, kernel_id = open_page(browser, url)
    try:
        page.locator(".patentrnn-generate").click()
        page.locator(".patentrnn-output-widget .word").first.wait_for(timeout=30_000)
        assert page.locator(".patentrnn-lost").count() == 0, "a live kernel is not reported lost"
        status = page.evaluate(
            """async (id) => {
                const form = new FormData();
                form.append("_xsrf", document.cookie.match(/\\b_xsrf=([^;]*)/)[1]);
                return (await fetch(`voila/api/shutdown/${id}`, {method: "POST", body: form})).status;
            }""",
            kernel_id,
        )
        assert status == 204 and kernel_status(url, kernel_id) == 410
        page.locator(".patentrnn-generate").click()
        note = page.locator(".patentrnn-lost")
        note.wait_for(state="visible", timeout=5_000)
        assert "lost its session" in note.inner_text() and "Reload" in note.inner_text()
        page.locator(".patentrnn-reload").click()
        page.locator(".patentrnn-generate").wait_for(state="visible", timeout=60_000)
        page.locator(".patentrnn-generate").click()
        page.locator(".patentrnn-output-widget .word").first.wait_for(timeout=30_000)
        assert page.locator(".patentrnn-lost").count() == 0
    finally:
        page.close(run_before_unload=True)
        page.context.close()


@pytest.mark.slow
def test_a_flood_of_clicks_over_the_websocket_runs_no_more_than_the_rate_limit(server):
    url, _ = server
    limit = RateLimit()  # the server runs the defaults
    with PageClient(url) as page:
        started = time.perf_counter()
        for _ in range(300):
            page.click("patentrnn-generate")
        page.drain(quiet=1.5)
        elapsed = time.perf_counter() - started
        generations = page.generations()
        print(f"300 clicks: {generations} generations in {elapsed:.2f} s")
        assert limit.burst <= generations <= limit.burst + limit.rate * elapsed + 1
        assert "Too many clicks" in page.text()
        time.sleep(1 / limit.rate)  # a token comes back: the page works again
        page.generate(timeout=10)


@pytest.mark.slow
def test_beyond_the_session_limit_a_visitor_gets_a_busy_page_and_no_kernel(small_server):
    url = small_server
    first, second = PageClient(url), PageClient(url)
    closed = []
    try:
        before = sessions(url)
        assert before["sessions"] == 2 == before["max_sessions"] == before["kernels"] and before["pool"] == 0
        started = time.perf_counter()
        status, headers, body = get(url)
        answered = time.perf_counter() - started
        assert status == 503 and headers["Retry-After"] == "60" and answered < 1.0
        assert "busy" in body.decode() and "try again in a minute" in body.decode()
        assert '<meta http-equiv="refresh" content="60">' in body.decode()  # reloads when Retry-After says
        assert "kernelId" not in body.decode()
        time.sleep(1.5)  # a kernel started anyway would show by now
        assert sessions(url) == before, "no kernel was started for the visitor turned away"
        for page in (first, second):  # open sessions are unaffected
            page.generate()
        first.close()
        closed.append(first)
        wait_for(lambda: sessions(url)["sessions"] == 1, timeout=5, what="the first session to end")
        third = PageClient(url)  # a seat is free again
        third.close()
    finally:
        for page in (first, second):
            if page not in closed:
                page.close()
