"""Delivery over real networks (patentrnn/serve/delivery.py): compression, cache lifetimes, the CSP,
a page that paints before its scripts, same-origin requests only, on ``patentrnn serve`` and on
the Binder path (Jupyter Server with Voilà's extension). Speed belongs to benchmarks/network_speed.py."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest
from voila_server import ROOT, answers, free_port, stop, wait_for

from patentrnn.serve import delivery

CSP_SCRIPT = re.compile(r"script-src ([^;]+)")


def fetch(url: str, encoding: str | None = None):
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers, response.read()


def page_scripts(url: str) -> list[str]:
    """The page's static script and stylesheet URLs, as its HTML names them."""
    _, body = fetch(url)
    return re.findall(r'(?:src|href)="(/voila/[^"]+)"', body.decode())


# --- pure functions ----------------------------------------------------------------------------


def test_cache_control_is_immutable_only_for_versioned_urls():
    immutable, revalidate = delivery.IMMUTABLE, delivery.REVALIDATE
    assert delivery.cache_control("/voila/labextensions/x/static/remoteEntry.698dcaf7.js", {}) == immutable
    assert delivery.cache_control("/voila/templates/t/static/index.css", {"v": [b"ab"]}) == immutable
    assert delivery.cache_control("/voila/static/v-abc/7155.voila.js", {}, ("/voila/static/v-abc/",)) == immutable
    assert delivery.cache_control("/voila/static/7155.voila.js", {}, ("/voila/static/v-abc/",)) == revalidate
    assert delivery.cache_control("/voila/static/health.txt", {}) == revalidate
    assert "max-age=31536000" in immutable and "immutable" in immutable


def test_choose_encoding_prefers_brotli_and_respects_refusals():
    both = {"br": b"1", "gzip": b"2"}
    assert delivery.choose_encoding("gzip, deflate, br", both) == "br"
    assert delivery.choose_encoding("gzip, deflate", both) == "gzip"
    assert delivery.choose_encoding("br;q=0, gzip", both) == "gzip"
    assert delivery.choose_encoding("identity", both) is None
    assert delivery.choose_encoding("", both) is None
    assert delivery.choose_encoding("br", {"gzip": b"2"}) is None
    assert delivery.choose_encoding("*", both) == "br"


def test_add_nonce_stamps_every_script_tag_and_nothing_else():
    html = '<script>a()</script><SCRIPT src="x.js"></SCRIPT><scripts><p>&lt;script&gt;</p><script type="x">'
    stamped = delivery.add_nonce(html, "N0")
    assert stamped.count('nonce="N0"') == 3 and "<scripts>" in stamped and "&lt;script&gt;" in stamped


def test_precompressed_files_decode_to_the_same_bytes(tmp_path):
    roots = tmp_path / "static"
    roots.mkdir()
    (roots / "big.js").write_text("var x = 1;\n" * 2000)
    (roots / "small.js").write_text("var y;")
    (roots / "font.woff2").write_bytes(b"\x00" * 4000)
    cache = delivery.Precompressed(tmp_path / "cache")
    assert cache.fill([str(roots)], workers=1) == (1, 1)
    assert cache.fill([str(roots)], workers=1) == (0, 1), "a second fill compresses nothing"
    encoded = cache.encodings(str(roots / "big.js"))
    assert set(encoded) == {"br", "gzip"}
    original = (roots / "big.js").read_bytes()
    assert brotli.decompress(encoded["br"]) == original and gzip.decompress(encoded["gzip"]) == original
    assert cache.encodings(str(roots / "small.js")) == {} and cache.encodings(str(roots / "font.woff2")) == {}


# --- patentrnn serve ----------------------------------------------------------------------------


def test_static_files_are_served_compressed_and_decode_to_the_same_bytes(server):
    scripts = [path for path in page_scripts(server) if path.split("?")[0].endswith((".js", ".css"))]
    assert scripts, "the page names its scripts and stylesheets"
    for path in scripts:
        url = server.rstrip("/") + path
        plain_headers, plain = fetch(url)
        assert plain_headers.get("Content-Encoding") is None
        for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
            headers, body = fetch(url, encoding)
            assert headers["Content-Encoding"] == encoding, (path, encoding)
            assert "Accept-Encoding" in headers["Vary"]
            assert decode(body) == plain, f"{path} as {encoding} decodes to other bytes"
            assert len(body) < len(plain)


def test_versioned_files_are_cached_for_a_year_and_the_page_never(server):
    scripts = page_scripts(server)
    assert any(re.search(r"/static/frontend/app-[0-9a-f]{16}\.js", path) for path in scripts), "named by its content"
    for path in scripts:
        headers, _ = fetch(server.rstrip("/") + path, "gzip")
        assert headers["Cache-Control"] == delivery.IMMUTABLE, path
    headers, _ = fetch(server.rstrip("/") + "/voila/static/health.txt")
    assert headers["Cache-Control"] == delivery.REVALIDATE
    headers, _ = fetch(server)
    assert "no-store" in headers["Cache-Control"]


def test_the_page_carries_a_csp_whose_nonce_every_script_has(server):
    headers, body = fetch(server, "gzip")
    assert headers["Content-Encoding"] == "gzip", "the page itself is compressed"
    html = gzip.decompress(body).decode()
    policy = headers["Content-Security-Policy"]
    sources = CSP_SCRIPT.search(policy).group(1).split()
    (nonce,) = [source[7:-1] for source in sources if source.startswith("'nonce-")]
    assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
    assert "https:" not in policy and "http:" not in policy and "*" not in policy
    tags = re.findall(r"<script[^>]*>", html)
    assert tags and all(f'nonce="{nonce}"' in tag for tag in tags)
    _, again = fetch(server)
    assert nonce not in again.decode(), "each page view has its own nonce"


def test_the_first_response_shows_the_title_and_a_preview_of_the_form(server):
    _, body = fetch(server)
    html = body.decode()
    first = html.index('id="rendered_cells"')
    head = html[:first]
    assert "<h1" in head and "patentrnn" in head, "the notebook's title is in the page before the cells"
    assert 'class="patentrnn-preview"' in head and "patentrnn-loading" in head
    assert "cdn.jsdelivr.net" not in html and "cdnjs" not in html


# --- Chromium ------------------------------------------------------------------------------------


def same_origin_requests(page, url: str) -> list[str]:
    """Record every request the page makes; returns the list, filled as the page runs."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    others: list[str] = []
    page.on("request", lambda r: r.url.startswith((origin, "blob:", "data:")) or others.append(r.url))
    return others


@pytest.mark.browser
def test_the_preview_paints_first_and_a_click_on_it_is_kept(server, browser):
    """The front end's script held back: the preview is there, the live form is not; once it is let through, the
    live form takes the preview's place, in the same spot, and runs the click made on the preview."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    held = []
    page.route("**/static/frontend/app-*.js*", lambda route: held.append(route))
    page.goto(server, wait_until="commit", timeout=60_000)
    preview = page.locator(".patentrnn-preview")
    preview.wait_for(state="visible", timeout=30_000)
    assert page.locator(".patentrnn-loading").is_visible()
    preview_button = page.locator(".patentrnn-preview-generate").bounding_box()
    for _ in range(300):  # Playwright dispatches the route while the page waits, not during time.sleep
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the page asked for its script"
    assert not page.locator(".patentrnn-generate").is_visible()
    page.locator(".patentrnn-preview-generate").click()
    assert "loading" in page.locator(".patentrnn-loading").inner_text().lower()
    held[0].continue_()
    page.locator(".patentrnn-generate").wait_for(state="visible", timeout=60_000)
    assert not preview.is_visible()
    live_button = page.locator(".patentrnn-generate").bounding_box()
    assert abs(live_button["x"] - preview_button["x"]) < 4 and abs(live_button["y"] - preview_button["y"]) < 16
    page.locator(".patentrnn-output-widget .word").first.wait_for(timeout=30_000)  # the kept click ran
    context.close()


@pytest.mark.browser
def test_no_request_leaves_the_origin_and_injected_inline_script_is_refused(server, browser):
    context = browser.new_context()
    page = context.new_page()
    others = same_origin_requests(page, server)
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.goto(server, timeout=60_000)
    page.locator(".patentrnn-generate").wait_for(state="visible", timeout=60_000)
    page.locator(".patentrnn-generate").click()
    page.locator(".patentrnn-output-widget .word").first.wait_for(timeout=30_000)
    assert violations == [], violations  # Voilà's own scripts all run under the policy
    ran = page.evaluate(
        """() => new Promise(resolve => {
            window.injected = false;
            document.addEventListener('securitypolicyviolation', e => resolve([window.injected, e.violatedDirective]));
            const script = document.createElement('script');
            script.textContent = 'window.injected = true';
            document.querySelector('.patentrnn-output-widget').appendChild(script);
            setTimeout(() => resolve([window.injected, null]), 2000);
        })"""
    )
    assert ran[0] is False and ran[1] and ran[1].startswith("script-src"), ran
    assert others == [], others
    context.close()


@pytest.fixture(scope="module")
def binder(data_dir, tmp_path_factory):
    """The Binder path: Jupyter Server with Voilà's extension, in the repository (its voila.json)."""
    port = free_port()
    log = tmp_path_factory.mktemp("binder") / "server.log"
    command = [
        str(Path(sys.executable).with_name("jupyter")), "server", "--no-browser", "--allow-root",
        f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
        f"--ServerApp.root_dir={ROOT}",
    ]  # fmt: skip
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: answers(url + "api/status"), 60, "Jupyter Server to answer")
        yield url + "voila/render/notebooks/app.ipynb"
    finally:
        stop(process)




@pytest.mark.browser
def test_the_binder_path_makes_no_third_party_request(binder, browser):
    context = browser.new_context()
    page = context.new_page()
    others = same_origin_requests(page, binder)
    page.goto(binder, timeout=90_000)
    page.locator(".patentrnn-generate").wait_for(state="visible", timeout=90_000)
    page.locator(".patentrnn-generate").click()
    page.locator(".patentrnn-output-widget .word").first.wait_for(timeout=60_000)
    assert page.locator(".patentrnn-lost").count() == 0, "no kernel check on this path: no false alarm"
    assert others == [], others
    context.close()


def test_the_served_notebooks_are_trusted_without_a_warning_a_visit(caplog):
    import nbformat

    from patentrnn.serve.server import ServedContents

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    with caplog.at_level("WARNING"):
        ServedContents().mark_trusted_cells(notebook, "app.ipynb")
    assert notebook.cells[0].metadata.get("trusted") is True
    assert "not trusted" not in caplog.text
