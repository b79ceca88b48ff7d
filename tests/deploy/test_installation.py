"""deploy/README.md's install steps work when followed literally (issue 20, item 10).

The test runs the commands of "1. Install (systemd)" exactly as written, with every absolute path moved
under a temporary root. What needs a real host is left out and only checked to be there: `apt-get`
(the packages), `useradd` (the `vva` user; its home is created here instead) and `systemctl`, and the
owner options of `install` (the test does not run as a user that may give files away). Then every file
the systemd units and the nginx site read from the install, and every `deploy/` file the README names,
must exist, and the `vva` the later steps call must be the installed one and run.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.nginx import DEPLOY

PROJECT = DEPLOY.parent
README = DEPLOY / "README.md"
#: Absolute paths the install writes to; moved under the temporary root.
ROOTS = ("/opt/vva", "/etc/vva", "/etc/systemd", "/etc/nginx", "/var/lib/vva", "/usr/local/bin")
#: Commands that need a real host; the test only checks the README still runs them.
ONLY_ON_ONE_HOST = ("apt-get", "useradd", "systemctl")


def _installation_steps() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## 1. Install (systemd)", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"\n\n((?: {4}.+\n)+)", section)
    assert block, "deploy/README.md section 1 has no indented command block"
    return [line.strip() for line in block.group(1).splitlines()]


def _under_root(line: str, root: Path) -> str:
    for path in ROOTS:
        line = re.sub(rf"(?<![\w./-]){re.escape(path)}", f"{root}{path}", line)
    return line


def test_the_install_steps_work_literally_in_an_empty_root(tmp_path):
    steps = _installation_steps()
    skipped = [s.split()[0] for s in steps if s.split()[0] in ONLY_ON_ONE_HOST]
    assert sorted(set(skipped)) == sorted(ONLY_ON_ONE_HOST)

    root = tmp_path / "wortel"
    # What the packages and useradd would have created on a real host.
    for folder in ("etc/nginx/conf.d", "etc/systemd/system", "var/lib/vva", "usr/local/bin"):
        (root / folder).mkdir(parents=True)
    script = ["set -eux"]
    for step in steps:
        if step.split()[0] in ONLY_ON_ONE_HOST:
            continue
        step = step.replace("-o vva -g vva ", "").replace("-g vva ", "")
        step = re.sub(r"^python3 ", f"{shlex.quote(sys.executable)} ", step)
        script.append(_under_root(step, root))
    verdict = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=PROJECT, capture_output=True, text=True, timeout=900
    )
    assert verdict.returncode == 0, verdict.stderr[-4000:]

    vva = root / "usr/local/bin/vva"
    assert vva.resolve() == (root / "opt/vva/venv/bin/vva").resolve()
    helper = subprocess.run([str(vva), "--help"], capture_output=True, text=True, timeout=120)
    assert helper.returncode == 0 and "cycle" in helper.stdout, helper.stderr

    # Every file of the install that a unit or the nginx site reads is there.
    needed: set[str] = set()
    for unit in (root / "etc/systemd/system").iterdir():
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart", "Environment=VVA_CONFIG", "ReadWritePaths")):
                needed |= set(re.findall(r"(/(?:opt/vva|etc/vva|var/lib/vva)[\w./-]*)", line))
    for conf in (root / "etc/nginx/conf.d").iterdir():
        assert conf.name in {"vva-site.conf", "upstream-local.conf"}
    needed -= {"/var/lib/vva/duo/" + n for n in _duo_files()}  # the operator downloads these
    assert needed, "no paths found in the units"
    missing = sorted(p for p in needed if not (root / p.lstrip("/")).exists())
    assert not missing, f"named by the systemd units, not installed: {missing}"
    assert (root / "etc/vva/vva.toml").read_text() == (DEPLOY / "vva.toml.example").read_text()


def _duo_files() -> list[str]:
    return [
        "02.-alle-vestigingen-vo.csv",
        "02.-alle-schoolvestigingen-basisonderwijs.csv",
        "09.-alle-vestigingen-sbo-so-en-vso.csv",
        "01.-adressen-mbo-instellingen.csv",
    ]


def test_every_deploy_file_named_exists():
    text = README.read_text(encoding="utf-8")
    mentioned = set(re.findall(r"(?<![\w/])deploy/[\w./*{},-]+\w", text))
    file_table = text.split("| file | what |", 1)[1].split("\n\n", 1)[0]
    first_column = " ".join(row.split("|")[1] for row in file_table.splitlines()[1:])
    mentioned |= {"deploy/" + p for p in re.findall(r"`([\w./{},-]+)`", first_column)}
    assert mentioned
    missing = []
    for path in sorted(mentioned):
        variants = _expanded(path.rstrip("/"))
        if not all(any(PROJECT.glob(v)) for v in variants):
            missing.append(path)
    assert not missing, f"deploy/README.md names files that do not exist: {missing}"


def _expanded(path: str) -> list[str]:
    """``a/{b,c}.d`` → ``a/b.d``, ``a/c.d`` (the README's shorthand for unit pairs)."""
    m = re.search(r"\{([^}]*)\}", path)
    if not m:
        return [path]
    return [
        v for part in m.group(1).split(",") for v in _expanded(path[: m.start()] + part + path[m.end() :])
    ]


@pytest.mark.parametrize("path", ["/etc/vva/vva.toml", "/opt/vva/venv/bin/vva"])
def test_the_path_rewrite_moves_whole_paths_only(path, tmp_path):
    assert _under_root(f"x {path} y", tmp_path) == f"x {tmp_path}{path} y"
    assert _under_root("deploy/systemd/x", tmp_path) == "deploy/systemd/x"
