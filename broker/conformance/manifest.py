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
TLS_GEWEIGERD = "TLS geweigerd"
MODI = ("broker", "ontvanger")
CODERINGEN = ("utf-8", "utf-8-bom", "utf-16", "latin-1")
HERHALINGEN = ("zelfde-bytes", "opnieuw-ondertekend", "andere-body")
SLEUTELS = ("eigen", "zelf-ondertekend")


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
    modus: tuple[str, ...] = MODI
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
    def uitkomsten(self) -> tuple[str, ...]:
        """Every outcome that passes: ``verwacht`` and the ``ook_goed`` alternatives."""
        return (self.verwacht, *self.ook_goed)


@dataclass(frozen=True)
class Manifest:
    map: Path
    gevallen: tuple[Case, ...]
    buiten_bereik: dict[str, str]

    def sjabloon(self, geval: Case) -> str:
        return (self.map / geval.sjabloon).read_text(encoding="utf-8")


def conformance_map() -> Path:
    """``conformance/`` of the checkout this code runs from, else where a wheel installs it."""
    checkout = Path(__file__).resolve().parents[2] / "conformance"
    if checkout.is_dir():
        return checkout
    return Path(sysconfig.get_path("data")) / "share" / "vva-broker" / "conformance"


def load_manifest(pad: Path | None = None) -> Manifest:
    """Read and check ``manifest.toml`` (default: the kit's own). Raises ValueError naming the case
    for an unknown field or value, a duplicate id, an unknown expected code or a missing template."""
    pad = pad or conformance_map() / "manifest.toml"
    ruw = tomllib.loads(pad.read_text(encoding="utf-8"))
    velden = set(Case.__dataclass_fields__)
    gevallen, gezien = [], set()
    for item in ruw.get("geval", []):
        onbekend = set(item) - velden
        if onbekend:
            raise ValueError(f"{pad}: case {item.get('id')}: unknown fields {sorted(onbekend)}")
        for naam in ("ook_goed", "modus"):
            if naam in item:
                item[naam] = tuple(item[naam])
        geval = Case(**item)
        _check(geval, pad)
        if geval.id in gezien:
            raise ValueError(f"{pad}: duplicate case id {geval.id}")
        gezien.add(geval.id)
        gevallen.append(geval)
    buiten = {b["code"]: b["reden"] for b in ruw.get("buiten_bereik", [])}
    return Manifest(pad.parent, tuple(gevallen), buiten)


def is_known_outcome(uitkomst: str) -> bool:
    return (
        uitkomst in (GEACCEPTEERD, TLS_GEWEIGERD)
        or uitkomst in FAULTSTRINGS
        or (uitkomst.startswith("HTTP ") and uitkomst[5:].isdigit())
    )


def _check(geval: Case, pad: Path) -> None:
    fouten = [f"unknown outcome {u!r}" for u in geval.uitkomsten if not is_known_outcome(u)]
    if not set(geval.modus) <= set(MODI):
        fouten.append(f"modus {geval.modus}")
    if geval.codering not in CODERINGEN:
        fouten.append(f"codering {geval.codering}")
    if geval.herhaling not in (None, *HERHALINGEN):
        fouten.append(f"herhaling {geval.herhaling}")
    if geval.sleutel not in SLEUTELS:
        fouten.append(f"sleutel {geval.sleutel}")
    if geval.resultaat is not None and (
        geval.verwacht != GEACCEPTEERD or not re.fullmatch(r"verwerkt|VVA[0-9]{3}|DK0002", geval.resultaat)
    ):
        fouten.append(f"resultaat {geval.resultaat} (verwerkt or a result code, for an accepted case)")
    if not (pad.parent / geval.sjabloon).is_file():
        fouten.append(f"template {geval.sjabloon} not found")
    if fouten:
        raise ValueError(f"{pad}: case {geval.id}: {'; '.join(fouten)}")
