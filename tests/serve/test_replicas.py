"""Replicas behind HAProxy, end to end in Chromium: every visitor served, sticky sessions, and HTTPS
with h2, websockets and the unload beacon (deploy/haproxy.cfg)."""

from __future__ import annotations

import contextlib
import json

import pytest
from haproxy_front import haproxy, haproxy_in_front, self_signed_certificate, server_states
from voila_server import post_json, sessions, stop, voila_app, wait_api_ready, wait_for

# --- two replicas behind HAProxy, end to end --------------------------------------------------


def visit(browser, url: str, problems: list[str]):
    """A new visitor (own cookies): open the page, click Generate, wait for the words."""
    context = browser.new_context(ignore_https_errors=url.startswith("https:"))
    page = context.new_page()
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("websocket", lambda ws: ws.on("socketerror", lambda error: problems.append(f"websocket {error}")))
    page.goto(url + "?words=12&seed=A+neural+network", timeout=90_000)
    page.locator(".patentrnn-output-widget .word").first.wait_for(timeout=90_000)  # the URL's generation
    before = page.locator(".patentrnn-output-widget").inner_html()
    page.locator(".patentrnn-generate").click()
    page.wait_for_function(
        "before => { const o = document.querySelector('.patentrnn-output-widget');"
        " return o.innerHTML !== before && o.querySelectorAll('.word').length === 12; }",
        arg=before,
        timeout=60_000,
    )
    return context, page


def replica_of(context) -> str:
    return next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "SRV")


@pytest.mark.browser
@pytest.mark.slow
def test_two_replicas_behind_haproxy_serve_every_visitor(data_dir, tmp_path, browser):
    haproxy()
    env = {"PATENTRNN_DATA": str(data_dir)}
    args = ("--max-sessions", "10", "--pool-size", "1")
    with contextlib.ExitStack() as stack:
        first, first_process = stack.enter_context(voila_app(env, tmp_path / "replica1.log", args=args))
        second, _ = stack.enter_context(voila_app(env, tmp_path / "replica2.log", args=args))
        proxy, stats = stack.enter_context(haproxy_in_front([first, second], tmp_path / "haproxy.log"))
        wait_for(lambda: server_states(stats).get("app3") == "DOWN", 30, "the replica that answers nothing marked down")
        problems: list[str] = []
        visitors = [visit(browser, proxy, problems) for _ in range(6)]
        for context, _ in visitors:  # the browser is the module's: close these before the servers stop
            stack.callback(context.close)
        assert problems == [], problems  # no websocket 404: every request reached its kernel's replica
        pinned = [replica_of(context) for context, _ in visitors]
        counts = [sessions(first)["sessions"], sessions(second)["sessions"]]
        assert sorted(set(pinned)) == ["app1", "app2"], pinned
        assert counts == [pinned.count("app1"), pinned.count("app2")] and min(counts) >= 1, (pinned, counts)

        # One replica stops: a new visitor, and one who was pinned to it, are served by the other.
        stop(first_process)
        wait_for(lambda: server_states(stats).get("app1") == "DOWN", 30, "HAProxy to mark the stopped replica down")
        served_before = sessions(second)["sessions"]
        after: list[str] = []
        newcomer, _ = visit(browser, proxy, after)
        stack.callback(newcomer.close)
        assert replica_of(newcomer) == "app2"
        orphan, old_page = visitors[pinned.index("app1")]
        old_page.locator(".patentrnn-generate").click()
        old_page.locator(".patentrnn-lost").wait_for(timeout=30_000)  # its kernel went with its replica
        old_page.close()
        reload = orphan.new_page()
        reload.on("response", lambda r: r.status >= 400 and after.append(f"{r.status} {r.url}"))
        reload.goto(proxy + "?words=12&seed=A+network", timeout=90_000)
        reload.locator(".patentrnn-output-widget .word").first.wait_for(timeout=90_000)
        assert replica_of(orphan) == "app2", "HAProxy re-pins a visitor whose replica is gone"
        assert after == [], after
        wait_for(lambda: sessions(second)["sessions"] >= served_before + 2, 10, "the second replica's new sessions")


@pytest.mark.browser
@pytest.mark.slow
def test_haproxy_with_tls_serves_over_h2_with_websockets_and_unload(data_dir, tmp_path, browser):
    """HTTPS through deploy/haproxy.cfg: Chromium negotiates h2 (one connection for the page's
    requests), 6 visitors generate words over their kernel websockets, and closing their tabs
    frees their kernels (the unload beacon reaches the replica)."""
    haproxy()
    env = {"PATENTRNN_DATA": str(data_dir)}
    args = ("--max-sessions", "10", "--pool-size", "1")
    certificate = self_signed_certificate(tmp_path)
    with contextlib.ExitStack() as stack:
        replica, _ = stack.enter_context(voila_app(env, tmp_path / "replica.log", args=args))
        proxy, _ = stack.enter_context(haproxy_in_front([replica], tmp_path / "haproxy.log", tls_cert=certificate))
        assert proxy.startswith("https://")
        problems: list[str] = []
        visitors = [visit(browser, proxy, problems) for _ in range(6)]
        for context, _ in visitors:
            stack.callback(context.close)
        assert problems == [], problems
        navigation = "performance.getEntriesByType('navigation')[0].nextHopProtocol"
        assert {page.evaluate(navigation) for _, page in visitors} == {"h2"}
        _, page = visitors[0]
        resources = "performance.getEntriesByType('resource').filter(e => e.name.startsWith('https:'))"
        assert page.evaluate(resources + ".every(e => e.nextHopProtocol === 'h2')")
        assert sessions(replica)["sessions"] == 6
        for _, page in visitors:
            page.close(run_before_unload=True)
        wait_for(lambda: sessions(replica)["sessions"] == 0, 30, "the unload beacons to free every kernel")


@pytest.mark.slow
def test_the_api_behind_haproxy_needs_no_cookie_and_each_address_has_a_limit(data_dir, tmp_path):
    env = {"PATENTRNN_DATA": str(data_dir), "PATENTRNN_RATE": "1000", "PATENTRNN_BURST": "1000"}
    args = ("--pool-size", "0", "--api-workers", "1")
    with contextlib.ExitStack() as stack:
        replica, _ = stack.enter_context(voila_app(env, tmp_path / "replica.log", args=args))
        wait_api_ready(replica)
        limit = {"PATENTRNN_API_REQUESTS_10S": "3"}
        proxy, _ = stack.enter_context(haproxy_in_front([replica], tmp_path / "haproxy.log", env=limit))
        body = {"inputs": "A neural network", "parameters": {"max_new_tokens": 10, "seed": 1}}
        answers = [post_json(proxy + "v1/generate", body) for _ in range(4)]
        assert [status for status, _, _ in answers] == [200, 200, 200, 429], answers[-1]
        assert all("Set-Cookie" not in headers for _, headers, _ in answers), "the API pins no session"
        assert json.loads(answers[0][2])["generated_text"]
        assert json.loads(answers[3][2])["error_type"] == "rate_limited" and answers[3][1]["Retry-After"] == "10"
