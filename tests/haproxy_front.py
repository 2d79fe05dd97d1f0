"""HAProxy with deploy/haproxy.cfg in front of local replicas (the replica test, benchmarks/capacity.py).

The config reads its addresses from the environment; its third server points at a port that is
bound but never listens, so that its health check is refused and marks it down. The port stays
bound while HAProxy runs: a port merely found free could be taken again (once, by HAProxy's own
frontend, which made the third server's check pass through the proxy).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

from voila_server import ROOT, free_port, stop, wait_for

CONFIG = ROOT / "deploy" / "haproxy.cfg"


def haproxy() -> str:
    """Debian's haproxy (/usr/sbin is not always on PATH)."""
    path = shutil.which("haproxy") or "/usr/sbin/haproxy"
    assert Path(path).is_file(), "HAProxy not found: apt-get install -y haproxy"
    return path


def server_states(stats_url: str) -> dict[str, str]:
    """``{"app1": "UP", "app2": "DOWN", ...}`` from HAProxy's CSV stats; {} while it does not answer."""
    try:
        with urllib.request.urlopen(stats_url, timeout=2) as response:
            rows = response.read().decode().splitlines()
    except OSError:
        return {}
    header = rows[0].lstrip("# ").split(",")
    states = {}
    for row in rows[1:]:
        values = dict(zip(header, row.split(",")))
        if values.get("pxname") == "replicas" and values.get("svname", "").startswith("app"):
            states[values["svname"]] = values["status"]
    return states


def ready(states: dict[str, str], names: list[str]) -> bool:
    """Every replica is up, and every other server slot is down: a fast first visit must not
    send the next visitor to a slot that HAProxy has not yet found dead."""
    return bool(states) and all(
        (state == "UP") if name in names else not state.startswith("UP") for name, state in states.items()
    )


@contextlib.contextmanager
def haproxy_in_front(replicas: list[str], log: Path, timeout: float = 30, tls_cert: Path | None = None,
                     env: dict | None = None):  # fmt: skip
    """Run HAProxy in front of ``replicas`` (their URLs); yield the proxy's URL and its CSV stats
    URL once every replica is up. With ``tls_cert`` (a PEM with the key), the URL is HTTPS with h2."""
    refusing = socket.socket()
    refusing.bind(("127.0.0.1", 0))  # bound, never listening: connections to it are refused
    bind, stats = free_port(), free_port()
    dead = f"127.0.0.1:{refusing.getsockname()[1]}"
    addresses = [url.split("//")[1].rstrip("/") for url in replicas] + [dead]
    env = {"PATENTRNN_BIND": f"127.0.0.1:{bind}", "PATENTRNN_STATS_BIND": f"127.0.0.1:{stats}", **(env or {})}
    env.update({f"PATENTRNN_REPLICA_{i}": address for i, address in enumerate(addresses, 1)})
    tls = free_port() if tls_cert else None
    if tls_cert:
        env.update({"PATENTRNN_TLS_BIND": f"127.0.0.1:{tls}", "PATENTRNN_TLS_CERT": str(tls_cert)})
    with open(log, "w") as output:
        process = subprocess.Popen(
            [haproxy(), "-db", "-f", str(CONFIG)],
            env={"PATH": "/usr/sbin:/usr/bin:/bin", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stats_url = f"http://127.0.0.1:{stats}/stats;csv"
    names = [f"app{i}" for i in range(1, len(replicas) + 1)]
    try:
        try:
            wait_for(lambda: ready(server_states(stats_url), names), timeout,
                     "every replica up in HAProxy and the empty slots down", interval=0.3)  # fmt: skip
        except AssertionError as error:
            raise AssertionError(f"{error}; HAProxy's log:\n{log.read_text()[-2000:]}") from None
        yield (f"https://127.0.0.1:{tls}/" if tls_cert else f"http://127.0.0.1:{bind}/"), stats_url
    finally:
        stop(process)
        refusing.close()


def self_signed_certificate(directory: Path) -> Path:
    """A PEM file with a new self-signed certificate for 127.0.0.1 and its key (openssl)."""
    key, cert, pem = directory / "key.pem", directory / "cert.pem", directory / "haproxy.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    return pem
