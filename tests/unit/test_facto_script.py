"""`./facto demo` installs only what runs (issue 13: it installed the dev tools, 117 s)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_facto(tmp_path: Path, *args: str) -> list[str]:
    """Run a copy of the script with a stand-in venv python that records what it is asked."""
    shutil.copy(ROOT / "facto", tmp_path / "facto")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    log = tmp_path / "calls.log"
    python.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    python.chmod(0o755)
    subprocess.run(["bash", str(tmp_path / "facto"), *args], check=True, timeout=30)
    return log.read_text().splitlines()


def test_demo_installs_the_runtime_only(tmp_path: Path) -> None:
    calls = run_facto(tmp_path, "demo", "--port", "9")
    assert "-m pip install --quiet -e ." in calls
    assert not any("[dev]" in call for call in calls)
    assert calls[-1] == "-m bot demo --port 9"


def test_demo_reuses_a_venv_set_up_for_the_tests(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    digest = subprocess.run(
        ["sha256sum", str(ROOT / "pyproject.toml")], check=True, capture_output=True, text=True
    ).stdout.split()[0]
    (tmp_path / ".venv" / ".installed-dev").write_text(digest + "\n")
    calls = run_facto_existing(tmp_path, "demo")
    assert calls == ["-m bot demo"]


def run_facto_existing(tmp_path: Path, *args: str) -> list[str]:
    shutil.copy(ROOT / "facto", tmp_path / "facto")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / ".venv" / "bin" / "python"
    log = tmp_path / "calls.log"
    python.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    python.chmod(0o755)
    subprocess.run(["bash", str(tmp_path / "facto"), *args], check=True, timeout=30)
    return log.read_text().splitlines()
