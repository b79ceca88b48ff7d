"""The layer contracts in pyproject.toml (``[tool.importlinter]``, checked by ``lint-imports`` in .ci/run)
cover every package: a contract that says "imports only the domain" lists every other top-level module
of ``broker`` as forbidden, so a package added later is forbidden too, not silently allowed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The contracts that allow only these of our packages (besides the source itself); ``broker.errors``,
#: the root exception, imports nothing of ours, so every layer may import it.
ONLY = {
    "broker.errors": set(),
    "broker.domain": {"broker.errors"},
    "broker.db": {"broker.domain", "broker.errors"},
    "broker.edukoppeling": {"broker.domain", "broker.errors"},
}


def _top_level() -> set[str]:
    return {
        f"broker.{p.stem if p.is_file() else p.name}"
        for p in (ROOT / "broker").iterdir()
        if (p.suffix == ".py" and p.stem not in ("__init__", "__main__")) or (p / "__init__.py").exists()
    }


def _contracts() -> list[dict]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["tool"]["importlinter"]["contracts"]


@pytest.mark.parametrize("source", sorted(ONLY))
def test_a_contract_allowing_only_the_domain_forbids_every_other_package(source):
    (contract,) = [c for c in _contracts() if c["type"] == "forbidden" and c["source_modules"] == [source]]
    assert set(contract["forbidden_modules"]) == _top_level() - {source} - ONLY[source]


def test_no_cycles_between_the_packages_and_modules():
    (contract,) = [c for c in _contracts() if c["type"] == "acyclic_siblings"]
    assert contract["ancestors"] == ["broker"] and "depth" not in contract  # every level, not only the top
