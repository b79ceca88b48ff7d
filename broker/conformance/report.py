"""The kit's report: a table for the terminal and JUnit XML for the partner's CI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from broker.conformance.runner import Verdict


def status(uitslag: Verdict) -> str:
    if uitslag.overgeslagen is not None:
        return "SKIP"
    return "ok" if uitslag.geslaagd else "FAIL"


def tabel(uitslagen: Sequence[Verdict]) -> str:
    """One line per case: status, id, expected, got; under a failed or skipped case why."""
    rijen = [("", "case", "expected", "got")] + [
        (status(u), u.geval.id, " | ".join(u.geval.uitkomsten), u.gekregen or "-") for u in uitslagen
    ]
    breedtes = [max(len(r[i]) for r in rijen) for i in range(4)]
    regels = []
    for rij, uitslag in zip(rijen, [None, *uitslagen], strict=True):
        regels.append("  ".join(w.ljust(b) for w, b in zip(rij, breedtes, strict=True)).rstrip())
        if uitslag is not None:
            for reden in uitslag.problemen + ([uitslag.overgeslagen] if uitslag.overgeslagen else []):
                regels.append(f"{'':{breedtes[0]}}    - {reden}")
    geslaagd = sum(u.geslaagd for u in uitslagen)
    overgeslagen = sum(u.overgeslagen is not None for u in uitslagen)
    gefaald = len(uitslagen) - geslaagd - overgeslagen
    regels.append(f"\n{geslaagd} passed, {gefaald} failed, {overgeslagen} skipped")
    return "\n".join(regels)


def junit(uitslagen: Sequence[Verdict], pad: Path, naam: str) -> None:
    """Write JUnit XML (one testsuite ``naam``, one testcase per case) to ``pad``."""
    gefaald = sum(not u.geslaagd and u.overgeslagen is None for u in uitslagen)
    suite = etree.Element(
        "testsuite",
        name=naam,
        tests=str(len(uitslagen)),
        failures=str(gefaald),
        errors="0",
        skipped=str(sum(u.overgeslagen is not None for u in uitslagen)),
        time=f"{sum(u.duur_s for u in uitslagen):.3f}",
    )
    for uitslag in uitslagen:
        geval = uitslag.geval
        testcase = etree.SubElement(
            suite, "testcase", classname=f"{naam}.{geval.dienst}", name=geval.id, time=f"{uitslag.duur_s:.3f}"
        )
        if uitslag.overgeslagen is not None:
            etree.SubElement(testcase, "skipped", message=uitslag.overgeslagen)
        elif uitslag.problemen:
            fout = etree.SubElement(testcase, "failure", message=uitslag.problemen[0])
            fout.text = "\n".join(
                [
                    f"{geval.omschrijving} ({geval.bron})",
                    f"expected: {' | '.join(geval.uitkomsten)}",
                    f"got: {uitslag.gekregen}",
                    *uitslag.problemen,
                ]
            )
    pad.write_bytes(
        etree.tostring(etree.ElementTree(suite), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )
