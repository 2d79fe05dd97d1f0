"""Deployment files: the container image, HAProxy in front of replicas, Kubernetes manifests.

Offline checks with the tools themselves (hadolint, kubernetes-validate, ``haproxy -c``), the
settings that keep a visitor on one replica and never probe ``/``, and an end-to-end run: two
``patentrnn serve`` replicas behind HAProxy, driven by Chromium. A missing HAProxy or Chromium
fails these tests (CI installs both).
"""

from __future__ import annotations

import fnmatch
import http.server
import re
import subprocess
import sys
import threading
import urllib.request
import zipfile
from pathlib import Path

import pytest
import tomllib
import yaml
from haproxy_front import haproxy, haproxy_in_front
from voila_server import ROOT

from patentrnn.serve import HEALTH_PATH, OPTIONS, RESERVED_MIB, SESSION_MIB, default_max_sessions

DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
BIN = Path(sys.executable).parent
SERVING_ENV = {env for name, (env, _) in OPTIONS.items() if name not in ("rate", "burst")}


def tool(name: str) -> str:
    path = BIN / name
    assert path.is_file(), f"{name} not found in {BIN}: pip install -e '.[test]'"
    return str(path)


# --- Dockerfile ---------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_passes_hadolint():
    result = subprocess.run([tool("hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_serves_without_tensorflow_as_a_user_with_a_health_check():
    instructions = dockerfile()
    users = [args for kind, args in instructions if kind == "USER"]
    assert users and users[-1] not in ("root", "0"), "the server runs as a user without privileges"
    installs = [args for kind, args in instructions if kind == "RUN" and "pip install" in args]
    assert installs and all("[" not in args and "tensorflow" not in args.lower() for args in installs)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [dep for dep in project["dependencies"] if re.match(r"(tensorflow|keras)", dep)]
    assert [dep for dep in project["dependencies"] if dep.startswith("ipykernel")], "Voilà alone has no kernel"
    runs = " ".join(args for kind, args in instructions if kind == "RUN")
    assert "fetch_corpora()" in runs, "the corpora are fetched at build time"
    assert "build_originality_indexes" in runs, "and the originality indexes built"
    (health,) = [args for kind, args in instructions if kind == "HEALTHCHECK"]
    assert HEALTH_PATH.lstrip("/") in health and "PATENTRNN_BASE_URL" in health
    (command,) = [args for kind, args in instructions if kind == "CMD"]
    assert yaml.safe_load(command) == ["patentrnn", "serve"]
    env = " ".join(args for kind, args in instructions if kind == "ENV")
    assert "PATENTRNN_HOST=0.0.0.0" in env and "PATENTRNN_MODELS=" in env


def test_dockerignore_keeps_what_the_image_copies():
    patterns = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]

    def ignored(path: str) -> bool:
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatch.fnmatch(prefix, pattern) for pattern in patterns for prefix in prefixes)

    copied = []
    for kind, args in dockerfile():
        if kind == "COPY" and not args.startswith("--from="):  # (not from a build stage)
            copied += args.split()[:-1]
    assert copied
    for source in copied:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: no such path"
        tracked = subprocess.run(["git", "ls-files", source], cwd=ROOT, capture_output=True, text=True, check=True)
        files = [ROOT / name for name in tracked.stdout.split()]
        wanted = [f for f in files if not f.name.startswith(".")]
        assert wanted and not [f for f in wanted if ignored(str(f.relative_to(ROOT)))], source
    assert ignored(".venv/bin/python") and ignored("tests/test_deploy.py") and ignored(".git/HEAD")
    assert ignored("patentrnn/web/js/node_modules/esbuild/package.json"), "the wheel stage builds the front end itself"


def test_a_plain_install_carries_the_page_template(tmp_path):
    """The image installs with `pip install .` (not editable): the Voilà template must be in the wheel."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            str(ROOT),
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("patentrnn-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    template = ROOT / "patentrnn" / "jupyter"
    for path in template.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert str(path.relative_to(ROOT)) in names, f"{path.relative_to(ROOT)} is not in the wheel"
    assert "patentrnn/jupyter/voila/templates/patentrnn" + HEALTH_PATH.replace("/voila", "", 1) in names
    built = [name for name in names if name.startswith("patentrnn/jupyter/voila/templates/patentrnn/static/frontend/")]
    assert [name for name in built if name.endswith(".js")], "the wheel carries the built front end"
    assert not [name for name in names if "node_modules" in name]


# --- Kubernetes -----------------------------------------------------------------------------


def kustomization() -> dict:
    return yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())


def manifests() -> dict[str, dict]:
    """kind -> the resource, for every file the kustomization lists."""
    resources = {}
    for name in kustomization()["resources"]:
        path = KUBERNETES / name
        assert path.is_file(), f"kustomization.yaml lists {name}, which does not exist"
        for document in yaml.safe_load_all(path.read_text()):
            assert document["kind"] not in resources, f"two {document['kind']}s"
            resources[document["kind"]] = document
    return resources


def test_every_manifest_validates_against_the_kubernetes_schemas():
    files = [str(KUBERNETES / name) for name in kustomization()["resources"]]
    assert sorted(Path(f).name for f in files) == sorted(
        p.name for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml"
    ), "every manifest is listed in kustomization.yaml"
    result = subprocess.run([tool("kubernetes-validate"), "--strict", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(files), result.stdout


def test_the_ingress_controllers_compression_settings_validate():
    """ingress-nginx compresses through its controller's ConfigMap (use-gzip, enable-brotli), documented
    beside the kustomization, which does not apply it (it is the controller's, in its namespace)."""
    path = KUBERNETES / "ingress-nginx" / "configmap.yaml"
    result = subprocess.run([tool("kubernetes-validate"), "--strict", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and "passed" in result.stdout, result.stdout + result.stderr
    data = yaml.safe_load(path.read_text())["data"]
    assert data["use-gzip"] == "true" and data["enable-brotli"] == "true"
    assert "application/javascript" in data["gzip-types"] and "text/css" in data["brotli-types"]


def test_kubernetes_validate_rejects_a_broken_manifest(tmp_path):
    """The validator works offline and does fail: a Service with a port that is not a number."""
    service = yaml.safe_load((KUBERNETES / "service.yaml").read_text())
    service["spec"]["ports"][0]["port"] = "eighty"
    broken = tmp_path / "service.yaml"
    broken.write_text(yaml.safe_dump(service))
    result = subprocess.run([tool("kubernetes-validate"), "--strict", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0 and "eighty" in result.stdout + result.stderr


def test_names_labels_selectors_and_ports_agree():
    resources = manifests()
    assert set(resources) == {
        "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget"
    }  # fmt: skip
    deployment, service, ingress = resources["Deployment"], resources["Service"], resources["Ingress"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert resources["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    port_names = {port["name"]: port["containerPort"] for port in container["ports"]}
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] in port_names
    env = {item["name"]: item["value"] for item in container["env"]}
    assert int(env["PATENTRNN_PORT"]) == port_names[service_port["targetPort"]]
    backends = [path["backend"]["service"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    assert backends and all(b["name"] == service["metadata"]["name"] for b in backends)
    assert all(b["port"].get("name") == service_port["name"] or b["port"].get("number") == service_port["port"]
               for b in backends)  # fmt: skip
    target = resources["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert container["image"] in {image["name"] for image in kustomization()["images"]}


def test_ingress_pins_each_visitor_to_a_pod_and_keeps_websockets_open():
    ingress = manifests()["Ingress"]
    annotations = ingress["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert annotations[prefix + "affinity"] == "cookie"
    assert annotations[prefix + "affinity-mode"] == "persistent"
    assert annotations[prefix + "session-cookie-name"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[prefix + timeout]) >= 3600, "an idle open tab keeps its websocket for an hour"
    assert "sessionAffinity" not in manifests()["Service"]["spec"], "ingress-nginx ignores it: the cookie pins"


def test_probes_read_the_static_health_file_never_the_page():
    deployment = manifests()["Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    expected = env["PATENTRNN_BASE_URL"].rstrip("/") + HEALTH_PATH
    probes = [container[name] for name in ("startupProbe", "readinessProbe", "livenessProbe")]
    for probe in probes:
        assert probe["httpGet"]["path"] == expected != "/"
        assert probe["httpGet"]["port"] in {port["name"] for port in container["ports"]}
    assert SERVING_ENV <= set(env), f"missing: {SERVING_ENV - set(env)}"
    assert container["args"][:2] == ["patentrnn", "serve"]


def mebibytes(quantity: str) -> int:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024**2}
    number, unit = re.fullmatch(r"(\d+)([KMGT]i)", quantity).groups()
    return int(int(number) * units[unit])


def test_memory_is_sized_for_the_session_limit():
    deployment = manifests()["Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    limit = mebibytes(container["resources"]["limits"]["memory"])
    assert mebibytes(container["resources"]["requests"]["memory"]) == limit, "promised memory, never evicted"
    sessions_limit = int(env["PATENTRNN_MAX_SESSIONS"])
    assert limit >= RESERVED_MIB + sessions_limit * SESSION_MIB, "every session fits under the limit"
    assert default_max_sessions(limit) == sessions_limit, "no unused memory: the default would pick the same limit"
    hpa = manifests()["HorizontalPodAutoscaler"]
    assert {metric["resource"]["name"] for metric in hpa["spec"]["metrics"]} >= {"memory"}
    assert hpa["spec"]["minReplicas"] >= 2 and manifests()["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1


# --- HAProxy -------------------------------------------------------------------------------


def test_haproxy_config_is_valid():
    result = subprocess.run([haproxy(), "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_haproxy_config_is_sticky_and_checks_the_static_file():
    text = (DEPLOY / "haproxy.cfg").read_text()
    replicas = text.split("\nbackend replicas")[1].split("\nfrontend ")[0].split("\nbackend ")[0]
    lines = [line.split("#")[0].strip() for line in replicas.splitlines()]
    assert "cookie SRV insert indirect nocache" in " ".join(lines)
    servers = [line for line in lines if line.startswith("server ")]
    assert len(servers) >= 2
    for line in servers:
        name = line.split()[1]
        assert f"cookie {name}" in line, f"{name} has no cookie of its own"
    everything = [line.split("#")[0].strip() for line in text.splitlines()]
    tunnel = next(line for line in everything if line.startswith("timeout tunnel"))
    assert tunnel.split()[-1] in ("1h", "2h", "3h", "4h", "24h")
    check = next(line for line in lines if line.startswith("http-check send"))
    assert f'uri "${{PATENTRNN_HEALTH_PATH-{HEALTH_PATH}}}"' in check


class _Replica(http.server.BaseHTTPRequestHandler):
    """A stand-in replica: the page answers ``self.server.page_status``, the health file 200."""

    def do_GET(self):
        status = self.server.page_status if self.path.split("?")[0] == "/" else 200
        body = f"{self.server.server_port}".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.slow  # (it trains or serves by itself)
def test_haproxy_sends_a_visitor_turned_away_by_a_full_replica_to_another(tmp_path):
    """One replica at its session limit (503 busy page), one with room: every page view is served,
    by the one with room, a visitor pinned to the full one included."""
    replicas = []
    for status in (503, 200):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Replica)
        server.page_status = status
        threading.Thread(target=server.serve_forever, daemon=True).start()
        replicas.append(server)
    try:
        urls = [f"http://127.0.0.1:{server.server_port}/" for server in replicas]
        with haproxy_in_front(urls, tmp_path / "haproxy.log") as (proxy, _):
            for cookie in [None] * 6 + ["SRV=app1"] * 3:
                request = urllib.request.Request(proxy + "?seed=x", headers={"Cookie": cookie} if cookie else {})
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status == 200
                    assert response.read().decode() == str(replicas[1].server_port)
    finally:
        for server in replicas:
            server.shutdown()
