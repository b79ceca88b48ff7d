"""The kit's report: a table for the terminal and JUnit XML for the partner's CI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from broker.conformance.runner import Verdict


def status(verdict: Verdict) -> str:
    if verdict.skipped is not None:
        return "SKIP"
    return "ok" if verdict.geslaagd else "FAIL"


def table(verdicts: Sequence[Verdict]) -> str:
    """One line per case: status, id, expected, got; under a failed or skipped case why."""
    rows = [("", "case", "expected", "got")] + [
        (status(u), u.case.id, " | ".join(u.case.outcomes), u.received or "-") for u in verdicts
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for row, verdict in zip(rows, [None, *verdicts], strict=True):
        lines.append("  ".join(w.ljust(b) for w, b in zip(row, widths, strict=True)).rstrip())
        if verdict is not None:
            for reason in verdict.problems + ([verdict.skipped] if verdict.skipped else []):
                lines.append(f"{'':{widths[0]}}    - {reason}")
    geslaagd = sum(u.geslaagd for u in verdicts)
    skipped = sum(u.skipped is not None for u in verdicts)
    failed = len(verdicts) - geslaagd - skipped
    lines.append(f"\n{geslaagd} passed, {failed} failed, {skipped} skipped")
    return "\n".join(lines)


def junit(verdicts: Sequence[Verdict], path: Path, suite_name: str) -> None:
    """Write JUnit XML (one testsuite ``suite_name``, one testcase per case) to ``path``."""
    failed = sum(not u.geslaagd and u.skipped is None for u in verdicts)
    suite = etree.Element(
        "testsuite",
        name=suite_name,
        tests=str(len(verdicts)),
        failures=str(failed),
        errors="0",
        skipped=str(sum(u.skipped is not None for u in verdicts)),
        time=f"{sum(u.duration_s for u in verdicts):.3f}",
    )
    for verdict in verdicts:
        case = verdict.case
        testcase = etree.SubElement(
            suite, "testcase", classname=f"{suite_name}.{case.dienst}", name=case.id, time=f"{verdict.duration_s:.3f}"
        )
        if verdict.skipped is not None:
            etree.SubElement(testcase, "skipped", message=verdict.skipped)
        elif verdict.problems:
            error = etree.SubElement(testcase, "failure", message=verdict.problems[0])
            error.text = "\n".join(
                [
                    f"{case.omschrijving} ({case.bron})",
                    f"expected: {' | '.join(case.outcomes)}",
                    f"got: {verdict.received}",
                    *verdict.problems,
                ]
            )
    path.write_bytes(
        etree.tostring(etree.ElementTree(suite), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )
