"""What ``vva client`` prints: a readable table (tabulate), CSV (``;``, as Dutch spreadsheets expect)
or JSON, from the broker's verified answers turned into plain rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime

from tabulate import tabulate

FORMATS = ("table", "csv", "json")


def leerlingen(list_) -> list[dict]:
    """``LeerlingOverzicht`` objects (zeep) as rows; ``aanmeldingen`` is a list of dicts. The
    process facts (intake, onderwijsovereenkomst, examenresultaat) are there only for a party
    registered to receive them (``--procesfeiten``); an older answer simply lacks them."""
    return [
        {
            "bsn": leerling.bsn,
            "onderwijsnummer": leerling.onderwijsnummer,
            "brinVo": leerling.brinVo,
            "woongemeente": leerling.woongemeente,
            "mboGangerStatus": leerling.mboGangerStatus,
            "aanmeldingen": [_aanmelding(a) for a in (leerling.aanmelding or [])],
            "eldersAangemeld": leerling.eldersAangemeld,
            "examenresultaat": _feit(getattr(leerling, "examenresultaat", None)),
        }
        for leerling in list_ or []
    ]


def _aanmelding(a) -> dict:
    row = {"brinMbo": a.brinMbo, "status": a.status, "datum": a.datum, "crebo": a.crebo}
    intake = _feit(getattr(a, "intake", None))
    if intake:
        row["intake"] = f"intake {intake}"
    overeenkomst = getattr(a, "onderwijsovereenkomstDatum", None)
    if overeenkomst:
        row["onderwijsovereenkomstDatum"] = f"overeenkomst {_flat(overeenkomst)}"
    return row


def _feit(feit) -> str | None:
    """An intake or examenresultaat as "<uitkomst> <datum>" (an intake without outcome: its date)."""
    if feit is None:
        return None
    return " ".join(_flat(v) for v in (getattr(feit, "uitkomst", None), feit.datum) if v is not None)


def signalen(list_) -> list[dict]:
    """``Signaal`` objects (zeep) as rows."""
    fields = ("signaalId", "soort", "aangemaaktOp", "brin", "bsn", "onderwijsnummer", "omschrijving")
    return [{field: getattr(signaal, field) for field in fields} for signaal in list_ or []]


def rejected(resultaat) -> list[dict]:
    """The rejected rows of a ``BatchResultaat``: rij (row number in the file), code and texts."""
    return [
        {"rij": r.volgnummer, "code": r.code, "melding": r.tekstNl, "message": r.tekstEn}
        for r in resultaat.resultaat or []
        if not r.verwerkt
    ]


def show(rows: Sequence[dict], output_format: str, columns: Sequence[str] | None = None) -> str:
    """``rows`` as ``output_format`` (table, csv or json). Table and CSV flatten a list of
    registrations to "BRIN status datum crebo" joined by " | "; JSON keeps it a list."""
    if output_format == "json":
        return json.dumps(list(rows), default=_json, ensure_ascii=False, indent=2)
    columns = list(columns or (rows[0].keys() if rows else []))
    flat = [[_flat(row.get(k)) for k in columns] for row in rows]
    if output_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(flat)
        return out.getvalue().rstrip("\n")
    if not flat:
        return "(none)"
    width = [_WIDTHS.get(k) for k in columns]  # long texts wrap instead of widening the table
    return tabulate(flat, headers=columns, tablefmt="simple", disable_numparse=True, maxcolwidths=width)


_WIDTHS = {"melding": 70, "omschrijving": 60, "aanmeldingen": 50}


def _flat(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return " | ".join(" ".join(_flat(v) for v in a.values() if v is not None) for a in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _json(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def write_report(path, rows: Sequence[dict]) -> None:
    """The per-row error report of an upload, next to the input: UTF-8 with BOM and ``;`` (opens in
    a Dutch spreadsheet as is); columns rij, code, melding, message."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["rij", "code", "melding", "message"])
        writer.writerows([[r["rij"], r["code"], r["melding"], r["message"]] for r in rows])
