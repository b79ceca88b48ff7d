"""The kit's manifest (``conformance/manifest.toml``): every sample and the answer it must get.

A case (``[[geval]]``) names a template, the service it is for (``*`` = the service under test), the
expected outcome — ``geaccepteerd``, a fault code of the Edukoppeling table (``Client.DK0004``) or a
bare HTTP status (``HTTP 415``) — and how the kit makes the message: signed or not, a Timestamp
offset, a mutation after signing, HTTP header overrides, a repeat; for a batch optionally the
outcome its records must get (``resultaat``: ``verwerkt`` or a result code such as ``VVA123``). ``[[buiten_bereik]]`` would
excuse a fault code no case provokes, with the reason; the kit's own manifest keeps it empty.
"""

from __future__ import annotations

import re
import sysconfig
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from broker.edukoppeling.faults import FAULTSTRINGS

GEACCEPTEERD = "geaccepteerd"
TLS_REFUSED = "TLS geweigerd"
MODES = ("broker", "ontvanger")
ENCODINGS = ("utf-8", "utf-8-bom", "utf-16", "latin-1")
REPEATS = ("zelfde-bytes", "opnieuw-ondertekend", "andere-body")
KEY_CHOICES = ("eigen", "zelf-ondertekend")


@dataclass(frozen=True)
class Case:
    """One conformance case. ``dienst`` ``*`` runs against whatever service is under test."""

    id: str
    sjabloon: str
    verwacht: str
    omschrijving: str
    dienst: str = "*"
    operatie: str = "ping"
    bron: str = ""
    ook_goed: tuple[str, ...] = ()
    modus: tuple[str, ...] = MODES
    ondertekenen: bool = True
    sleutel: str = "eigen"
    tijd_s: int = 0
    mutatie: str | None = None
    waarden: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/xml; charset=UTF-8"
    content_encoding: str | None = None
    soapaction: str = '"${action}"'
    codering: str = "utf-8"
    herhaling: str | None = None
    tls: str | None = None
    #: For an accepted batch: the outcome of every record in its answer, ``verwerkt`` or the result
    #: code it must get (``VVA123``); None = not checked (e.g. a sample whose record depends on state).
    resultaat: str | None = None

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Every outcome that passes: ``verwacht`` and the ``ook_goed`` alternatives."""
        return (self.verwacht, *self.ook_goed)


@dataclass(frozen=True)
class Manifest:
    map: Path
    cases: tuple[Case, ...]
    out_of_range: dict[str, str]

    def sjabloon(self, case: Case) -> str:
        return (self.map / case.sjabloon).read_text(encoding="utf-8")


def conformance_map() -> Path:
    """``conformance/`` of the checkout this code runs from, else where a wheel installs it."""
    checkout = Path(__file__).resolve().parents[2] / "conformance"
    if checkout.is_dir():
        return checkout
    return Path(sysconfig.get_path("data")) / "share" / "vva-broker" / "conformance"


def load_manifest(path: Path | None = None) -> Manifest:
    """Read and check ``manifest.toml`` (default: the kit's own). Raises ValueError naming the case
    for an unknown field or value, a duplicate id, an unknown expected code or a missing template."""
    path = path or conformance_map() / "manifest.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    fields = set(Case.__dataclass_fields__)
    cases, seen = [], set()
    for item in raw.get("geval", []):
        unknown = set(item) - fields
        if unknown:
            raise ValueError(f"{path}: case {item.get('id')}: unknown fields {sorted(unknown)}")
        for name in ("ook_goed", "modus"):
            if name in item:
                item[name] = tuple(item[name])
        case = Case(**item)
        _check(case, path)
        if case.id in seen:
            raise ValueError(f"{path}: duplicate case id {case.id}")
        seen.add(case.id)
        cases.append(case)
    outside = {b["code"]: b["reden"] for b in raw.get("buiten_bereik", [])}
    return Manifest(path.parent, tuple(cases), outside)


def is_known_outcome(uitkomst: str) -> bool:
    return (
        uitkomst in (GEACCEPTEERD, TLS_REFUSED)
        or uitkomst in FAULTSTRINGS
        or (uitkomst.startswith("HTTP ") and uitkomst[5:].isdigit())
    )


def _check(case: Case, path: Path) -> None:
    errors = [f"unknown outcome {u!r}" for u in case.outcomes if not is_known_outcome(u)]
    if not set(case.modus) <= set(MODES):
        errors.append(f"modus {case.modus}")
    if case.codering not in ENCODINGS:
        errors.append(f"codering {case.codering}")
    if case.herhaling not in (None, *REPEATS):
        errors.append(f"herhaling {case.herhaling}")
    if case.sleutel not in KEY_CHOICES:
        errors.append(f"sleutel {case.sleutel}")
    if case.resultaat is not None and (
        case.verwacht != GEACCEPTEERD or not re.fullmatch(r"verwerkt|VVA[0-9]{3}|DK0002", case.resultaat)
    ):
        errors.append(f"resultaat {case.resultaat} (verwerkt or a result code, for an accepted case)")
    if not (path.parent / case.sjabloon).is_file():
        errors.append(f"template {case.sjabloon} not found")
    if errors:
        raise ValueError(f"{path}: case {case.id}: {'; '.join(errors)}")
