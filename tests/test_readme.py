"""The README's commands work as written, in a fresh checkout made by its own first command.

The checkout is this working tree's files (what a clone would hold, edits included; nothing git
ignores: no .venv, no built front end). ``make app`` there creates the virtual environment, installs,
builds the front end and serves; then the first screen's command must print the output the README
shows, the HTTP API's curl example must answer, and every line of "Command line" runs with the
installed ``patentrnn``, except the few that are covered elsewhere because they need the training
extra, write into the shipped cards for minutes, or serve (each named below, with the test that runs it).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from voila_server import ROOT, answers, free_port, stop, wait_api_ready

pytestmark = pytest.mark.slow
README = (ROOT / "README.md").read_text()
NOT_HERE = {  # a command of "Command line": why this test leaves it out, and where it runs
    "title-figures": "writes the card, minutes (tests/test_titles.py)",
    "cache --write": "writes every card, minutes (tests/test_cache.py)",
    "topic --write": "writes every card, minutes (tests/test_topic.py)",
    "memorisation": "writes the card, minutes (tests/test_originality.py)",
    "evaluate": "needs the train extra, which make app does not install (tests/test_cli.py)",
    "train": "needs the train extra (tests/test_cli.py, tests/test_training.py)",
    "serve": "serves until stopped: make app above runs it",
}


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README, flags=re.S)


def checkout(directory: Path) -> Path:
    """This working tree's files, as a clone with its edits would hold them."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source, target = ROOT / name, directory / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return directory


def run(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_readmes_commands_work_as_written_in_a_fresh_checkout(tmp_path, data_dir):
    tree = checkout(tmp_path / "patentrnn")
    first = blocks("bash")[0]
    assert first.splitlines()[0].startswith("make app"), "the first command is make app"
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(PATENTRNN_DATA=str(data_dir), PATENTRNN_POOL_SIZE="1")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    log = tmp_path / "make-app.log"
    with open(log, "w") as output:
        server = subprocess.Popen(["make", "app", "HOST=127.0.0.1", f"PORT={port}"], cwd=tree, env=env,
                                  stdout=output, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 900  # a new venv, the install and the front end's build
        while not answers(f"http://127.0.0.1:{port}/voila/static/health.txt"):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)

        console = blocks("console")[0].splitlines()
        command, shown = console[0].removeprefix("$ "), " ".join(console[1:])
        printed = run(command, tree, env)
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout.split() == shown.split(), "the first screen's command prints what the README shows"

        wait_api_ready(f"http://127.0.0.1:{port}/")
        api = next(block for block in blocks("console") if "curl" in block)  # the HTTP API's example
        command = api.removeprefix("$ ").replace("\\\n", " ").replace("localhost:8866", f"127.0.0.1:{port}")
        answered = run(command, tree, env)
        assert answered.returncode == 0 and len(json.loads(answered.stdout)["details"]["tokens"]) == 20, answered

        (tree / "abstract.txt").write_text("A bat comprising a handle and a barrel, the barrel made of wood.\n")
        lines = [line for line in blocks("bash")[section_index("Command line")].splitlines() if line.strip()]
        ran = 0
        for line in lines:
            words = shlex.split(line, comments=True)
            name = " ".join(words[1:3]) if "--write" in words else words[1]
            if any(name.startswith(skipped) for skipped in NOT_HERE):
                continue
            done = run(f".venv/bin/{line}", tree, env)
            assert done.returncode == 0, f"{line}\n{done.stderr[-2000:]}"
            ran += 1
        assert ran >= 9, f"only {ran} commands ran"
    finally:
        stop(server)


def section_index(title: str) -> int:
    """Which ```bash block (counted from the README's first) is the first of section ``title``."""
    start = README.index(f"## {title}\n")
    return README[:start].count("```bash")
