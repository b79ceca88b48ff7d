"""scripts/_python.sh under `set -eu`, as scripts/test sources it: PYTHON=python3.x whose pyenv shim
does not run (the version is installed but not selected) is found under pyenv instead of ending the
script without a word (.ci/run's 3.13 run did exactly that)."""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _installed(minor: str) -> bool:
    return bool(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{minor}.*/bin/python{minor}")))


@pytest.mark.parametrize("minor", ["3.11", "3.12", "3.13"])
def test_python_3x_is_found_under_set_e_even_when_its_shim_does_not_run(minor, tmp_path):
    if not _installed(minor):
        pytest.skip(f"Python {minor} is not installed under ~/.pyenv/versions")
    out = subprocess.run(
        ["sh", "-c", 'set -eu; . scripts/_python.sh; "$PYTHON" -c "import sys; print(sys.version_info[:2])"'],
        cwd=ROOT,
        env={**os.environ, "PYTHON": f"python{minor}", "VVA_VENV": str(tmp_path / "venv")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    major, sub = minor.split(".")
    assert out.stdout.strip() == f"({major}, {sub})"
