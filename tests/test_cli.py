"""Every CLI command runs; errors are one line and a non-zero exit."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli


def test_models_lists_bundles(tiny_models):
    done = run_cli("models", "--models-dir", str(tiny_models))
    assert done.returncode == 0 and "tiny-windows" in done.stdout and "perplexity" in done.stdout
    rows = json.loads(run_cli("models", "--json", "--models-dir", str(tiny_models)).stdout)
    assert {row["name"] for row in rows} == {"tiny", "tiny-windows", "tiny-tied", "tiny-title"}


def test_generate_seed_random_and_json(tiny_models):
    env = {"PATENTRNN_MODELS": str(tiny_models)}
    done = run_cli("generate", "--model", "tiny", "--seed", "A neural network", "--words", "8", "--rng-seed", "1",
                   env=env)  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith("A neural network")
    data = json.loads(run_cli("generate", "--model", "tiny", "--random", "--words", "8", "--json", env=env).stdout)
    assert data["mode"] == "random" and len(data["generated"]) == 8 and len(data["actual_words"]) == 8
    again = run_cli("generate", "--model", "tiny", "--seed", "A neural network", "--words", "8", "--rng-seed", "1",
                    env=env)  # fmt: skip
    assert again.stdout == done.stdout


@pytest.mark.slow  # (it trains or serves by itself)
def test_evaluate_any_csv(tiny_models, tmp_path):
    csv = tmp_path / "mine.csv"
    csv.write_text('patent_abstract\n"A neural network is trained, and a zorblax learns."\nA second abstract here.\n')
    done = run_cli("evaluate", "--model", "tiny", "--corpus", str(csv), "--json", "--models-dir", str(tiny_models))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["abstracts"] == 2 and report["targets"] == 14 and report["unk_target_share"] > 0
    assert report["log_loss"] > 0 and 0 <= report["top1_accuracy"] <= report["top5_accuracy"] <= 1


@pytest.mark.slow  # (it trains or serves by itself)
def test_train_command_makes_a_bundle(tmp_path):
    done = run_cli("train", "--name", "cli-tiny", "--preset", "tiny", "--max-abstracts", "60", "--epochs", "1",
                   "--verbose", "0", "--models-dir", str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "cli-tiny" / "card.json").exists()
    assert json.loads(done.stdout)["stopped"] == "all 1 epoch run"
    assert "training stopped: all 1 epoch run" in done.stderr
    assert not list(tmp_path.glob(".cli-tiny.*[!t]"))  # no staging directories left behind


def test_errors_are_one_line_without_traceback(tiny_models, tmp_path):
    env = {"PATENTRNN_MODELS": str(tiny_models)}
    cases = [
        ("generate", "--model", "../etc", "--seed", "x"),
        ("generate", "--model", "nope", "--seed", "x"),
        ("generate", "--model", "tiny", "--seed", "   "),
        ("generate", "--model", "tiny", "--seed", "A network", "--diversity", "nan"),
        ("generate", "--model", "tiny", "--seed", "A network", "--words", "0"),
        ("evaluate", "--model", "tiny", "--corpus", "unknown-corpus"),
        ("evaluate", "--model", "tiny", "--corpus", str(tmp_path / "missing.csv")),
        ("train", "--name", "../bad", "--preset", "tiny", "--max-abstracts", "20"),
        ("train", "--name", "x", "--preset", "giant", "--max-abstracts", "20", "--models-dir", str(tmp_path)),
    ]
    for args in cases:
        done = run_cli(*args, env=env)
        assert done.returncode == 2, (args, done.stderr)
        # TensorFlow may log its own start-up lines first; ours is the one last line
        assert "Traceback" not in done.stderr, (args, done.stderr)
        assert done.stderr.strip().splitlines()[-1].startswith(f"patentrnn {args[0]}: error: "), done.stderr


def test_a_missing_training_package_is_one_line_naming_the_install(monkeypatch, capsys):
    from patentrnn import cli

    def without_keras(args):
        raise ModuleNotFoundError("No module named 'keras'", name="keras")

    monkeypatch.setattr(cli.models, "_train", without_keras)
    assert cli.main(["train", "--name", "x", "--preset", "tiny"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("patentrnn train: error: ") and "keras" in line and "pip install" in line
    assert "'.[train]'" in line


def test_a_closed_pipe_ends_the_command_quietly(tiny_models):
    import subprocess
    import sys

    text = " ".join(["a neural network is trained on the images"] * 80)  # a JSON answer past a pipe's 64 kB
    command = (f"{sys.executable} -m patentrnn.cli score --model tiny --json --models-dir {tiny_models} "
               f"--text '{text}' | head -c 10")  # fmt: skip
    done = subprocess.run(command, shell=True, capture_output=True, text=True)
    assert done.stdout.startswith("{") and "Error" not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_every_option_of_every_command_says_what_it_does():
    import argparse

    from patentrnn.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    silent = [(name, action.option_strings) for name, parser in commands.choices.items()
              for action in parser._actions if action.option_strings and not (action.help or "").strip()]  # fmt: skip
    assert silent == []


def test_a_fault_of_ours_is_one_line_pointing_to_debug_which_shows_the_traceback(monkeypatch, capsys):
    from patentrnn import cli

    def broken(args):
        raise RuntimeError("an internal fault")

    monkeypatch.setattr(cli.text, "_generate", broken)
    assert cli.main(["generate", "--seed", "x"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "RuntimeError" in line and "--debug" in line
    with pytest.raises(RuntimeError):
        cli.main(["--debug", "generate", "--seed", "x"])


def _stderr_on_a_terminal(args: list[str], env: dict) -> tuple[int, str]:
    """Run ``patentrnn ARGS`` with its stderr on a pseudo-terminal; (exit status, what it wrote there)."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios
    import threading

    from conftest import ROOT

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a width
    chunks: list[bytes] = []

    def drain():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    done = subprocess.run([sys.executable, "-m", "patentrnn.cli", *args], stdout=subprocess.DEVNULL, stderr=slave,
                          env={**os.environ, **env}, cwd=ROOT, timeout=300)  # fmt: skip
    os.close(slave)
    reader.join(10)
    os.close(master)
    return done.returncode, b"".join(chunks).decode(errors="replace")


def test_long_work_shows_progress_on_a_terminal_and_not_with_json(tiny_models):
    env = {"PATENTRNN_MODELS": str(tiny_models)}
    args = ["memorisation", "--model", "tiny", "--n", "40", "--words", "20"]
    status, shown = _stderr_on_a_terminal(args, env)
    assert status == 0 and "tiny: memorisation" in shown and "/40 [" in shown, shown[-500:]
    status, shown = _stderr_on_a_terminal([*args, "--json"], env)
    assert status == 0 and "memorisation" not in shown and "it/s" not in shown, shown[-500:]


def test_a_download_and_an_index_build_show_progress_on_a_terminal_only(monkeypatch, capsys, tmp_path):
    import pooch

    from patentrnn import corpus, progress

    seen = []
    monkeypatch.setattr(pooch, "retrieve", lambda *args, **kwargs: seen.append(kwargs["progressbar"]) or "x.csv")
    corpus.fetch("neural-network", cache_dir=tmp_path)
    monkeypatch.setattr(progress, "shown", lambda: True)
    corpus.fetch("neural-network", cache_dir=tmp_path)
    assert seen == [False, True], "pooch's bar only where someone watches"
    with progress.working("building x's originality index (once)"):
        pass
    assert "building x's originality index (once)…" in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True)
    with progress.quiet(), progress.working("hidden"):  # (the command line's --json)
        pass
    assert "hidden" not in capsys.readouterr().err
