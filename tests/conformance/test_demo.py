"""The kit against the demo, exactly as docs/conformance.md's first command line says (issue 20,
item 2): a broker started the way ``./scripts/demo`` starts it (``vva init``, ``vva serve``, no
settings file, in its own folder) passes out of the box; the deliberate failures it does not offer
are skipped with the reason, and pass once ``conformance_fault_injection = true`` is set."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import _wait_for, free_port

DOCS = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
VVA = [sys.executable, "-m", "broker"]
_ENVIRONMENT = {
    k: v for k, v in os.environ.items() if k not in ("VVA_CONFIG", "VVA_DATABASE_URL", "VVA_KEY_FILE")
}


def _command_from_docs() -> list[str]:
    """The first indented command of docs/conformance.md, joined over its line continuations."""
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"\n\n((?:    .*\n)+)", text).group(1)
    return shlex.split(block.replace("\\\n", " "))


@contextmanager
def _demo(folder: Path):
    """``./scripts/demo`` in ``map``: ``vva init`` then ``vva serve`` (here on a free port)."""
    subprocess.run([*VVA, "init"], cwd=folder, env=_ENVIRONMENT, check=True, capture_output=True, timeout=120)
    port = free_port()
    with (folder / "demo.log").open("wb") as log:
        process = subprocess.Popen(
            [*VVA, "serve", "--port", str(port), "--workers", "1"],
            cwd=folder,
            env=_ENVIRONMENT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(f"http://127.0.0.1:{port}", process, port)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=15)


def _kit(folder: Path, port: int) -> subprocess.CompletedProcess:
    command = _command_from_docs()
    assert command[:3] == [".venv/bin/vva", "conformance", "run"]
    arguments = [a.replace("127.0.0.1:8080", f"127.0.0.1:{port}") for a in command[1:]]
    return subprocess.run(
        [*VVA, *arguments], cwd=folder, env=_ENVIRONMENT, capture_output=True, text=True, timeout=600
    )


def test_the_kit_passes_against_the_demo_as_the_docs_say(tmp_path):
    with _demo(tmp_path) as port:
        result = _kit(tmp_path, port)
    assert result.returncode == 0, result.stdout + result.stderr
    # as the docs say, in the sentence after the command
    promise = re.search(r"It ends with `([^`]+)`", DOCS.read_text(encoding="utf-8")).group(1)
    assert result.stdout.rstrip().endswith(promise)
    for case in ("storing-dk0050", "storing-dk0051", "storing-dk0008"):
        line = next(r for r in result.stdout.splitlines() if r.split()[1:2] == [case])
        assert line.startswith("SKIP")
    assert (
        result.stdout.count(
            "- this broker does not offer deliberate failures (it answered the ping as usual: "
            "conformance_fault_injection is off there); see docs/conformance.md, 'Deliberate failures'"
        )
        == 3
    )
    assert re.search(r"^ok\s+storing-dk0008-met-relatesto\s", result.stdout, re.MULTILINE)


def test_with_fault_injection_the_fault_case_passes_too(tmp_path):
    # docs/conformance.md: a vva.toml in the checkout with this one line switches them on.
    (tmp_path / "vva.toml").write_text("conformance_fault_injection = true\n")
    with _demo(tmp_path) as port:
        result = _kit(tmp_path, port)
    assert result.returncode == 0, result.stdout + result.stderr
    # The three deliberate-failure cases the demo skips now pass: the docs' count plus three.
    promise = re.search(r"It ends with `(\d+) passed, 0 failed, 4 skipped`", DOCS.read_text(encoding="utf-8"))
    assert result.stdout.rstrip().endswith(f"{int(promise.group(1)) + 3} passed, 0 failed, 1 skipped")
    for case in ("storing-dk0050", "storing-dk0051", "storing-dk0008"):
        assert re.search(rf"^ok\s+{case}\s", result.stdout, re.MULTILINE), case
