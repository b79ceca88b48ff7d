"""The report files: HTML a policy officer opens in a browser (charts embedded, no external
resources), and the same figures as CSV or xlsx for their own analysis."""

from __future__ import annotations

import base64
import csv
from html import escape
from pathlib import Path

from broker.rapportage import charts
from broker.rapportage import cijfers as c
from broker.rapportage.cijfers import STATUS_ORDER, TRAJECTEN, Level
from broker.rapportage.rapport import Rapport
from broker.rapportage.trends import trend_cijfers

ONDERDRUKT = charts.ONDERDRUKT
COLUMNS = [
    "soort",
    "jaar",
    "peildatum",
    "niveau",
    "eenheid",
    "naam",
    "cijfer",
    "dimensie",
    "waarde",
    "onderdrukt",
]
_NIVEAU_NAAM = {Level.SCHOOL: "VO-school", Level.REGIO: "RMC-regio", Level.LANDELIJK: "landelijk"}


def rijen(rapport: Rapport) -> list[list]:
    """The report's figures as flat rows (``COLUMNS``): every figure on the peildatum, then the trend."""
    table_rows = [
        [
            "peildatum",
            r.jaar,
            rapport.peildatum.isoformat(),
            r.niveau,
            r.eenheid,
            rapport.names.get(r.eenheid, ""),
            r.cijfer,
            r.dimensie,
            r.waarde,
            int(r.waarde is None),
        ]
        for r in rapport.cijfers
    ]
    for jaar, figures in sorted(rapport.trend.items()):
        for (naam, dimensie), waarde in sorted(figures.items()):
            table_rows.append(
                [
                    "trend",
                    jaar,
                    "",
                    rapport.niveau.value,
                    rapport.eenheid,
                    rapport.naam,
                    naam,
                    dimensie,
                    waarde,
                    int(waarde is None),
                ]
            )
    return table_rows


def write_csv(rapport: Rapport, path: Path) -> None:
    """UTF-8 with BOM (Excel recognises it), comma-separated, one header row; suppressed = empty
    ``waarde`` and ``onderdrukt`` 1."""
    with path.open("w", newline="", encoding="utf-8-sig") as csv_file:
        writer = csv.writer(csv_file)
        writer.writerow(COLUMNS)
        writer.writerows([["" if w is None else w for w in row] for row in rijen(rapport)])


def write_xlsx(rapport: Rapport, path: Path) -> None:
    """One sheet ``cijfers`` with the CSV's rows (suppressed = empty cell), and ``toelichting``."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "cijfers"
    sheet.append(COLUMNS)
    for row in rijen(rapport):
        sheet.append(row)
    sheet.freeze_panes = "A2"
    explanation = workbook.create_sheet("toelichting")
    for line in _note(rapport):
        explanation.append([line])
    workbook.save(path)


def _note(rapport: Rapport) -> list[str]:
    source = (
        "jaarcijfers van de gesloten cyclus (persoonsgegevens verwijderd)"
        if rapport.from_jaarcijfers
        else "berekend uit de historie van de lopende cyclus"
    )
    return [
        f"Procesinformatie voorziening vroegtijdig aanmelden, cyclus {rapport.jaar} (studiejaar {rapport.jaar}-{rapport.jaar + 1}).",
        f"Peildatum {rapport.peildatum:%d-%m-%Y}; deadline {rapport.deadline:%d-%m-%Y}; bron: {source}.",
        f"{charts.LEGEND_ONDERDRUKT} (uit totalen, verdelingen of de andere niveaus in dit rapport); "
        "een mediaan of percentiel op minder dan 5 waarnemingen is ook onderdrukt (docs/disclosure.md).",
        "Doorlooptijden in dagen tussen de eerste gemelde datum van elke status; percentielen volgens de nearest-rank-methode.",
        *_DEFINITIONS,
        "Definities: broker/rapportage/cijfers.py.",
    ]


#: One line per figure of issue 16, in the report's words (the same as the module docstring of cijfers).
_EXPLANATION_EXAMEN = (
    "Examenresultaat: de laatste uitkomst die de VO-school tot en met de peildatum meldde, van alle "
    "geleverde leerlingen (ook afgemelde, zoals doorstroom naar havo); leerlingen zonder gemelde uitkomst tellen niet mee."
)
_EXPLANATION_DIPLOMA = (
    "Met diploma, nergens aangemeld: geslaagd volgens de school, nog actief als potentiële mbo-ganger, en op de "
    "peildatum bij geen enkele mbo-instelling actief aangemeld (een deel van 'geleverd, nergens aangemeld')."
)
_EXPLANATION_INTAKE = (
    "Intake: één intakedatum bij één aanmelding, met de laatst gemelde uitkomst voor die datum; een leerling "
    "die na 'niet verschenen' opnieuw komt telt twee intakes. De uitkomsten tellen op tot het totaal."
)
_EXPLANATION_DOORLOOP = (
    "Dagen per aanmelding tussen de eerste gemelde datum van elke stap: aanmelding (aanmelding ontvangen of "
    "aangemeld), intake (de eerste intake die plaatsvond, dus niet 'niet verschenen'), inschrijving, "
    "onderwijsovereenkomst (de eerste gemelde datum van ondertekening). Alleen aanmeldingen met beide stappen."
)
_DEFINITIONS = (_EXPLANATION_EXAMEN, _EXPLANATION_DIPLOMA, _EXPLANATION_INTAKE, _EXPLANATION_DOORLOOP)


# --- HTML -----------------------------------------------------------------------------------------


def _number(value: int | None) -> str:
    return ONDERDRUKT if value is None else f"{value:,}".replace(",", ".")


def _percent(part: int | None, whole: int | None) -> str:
    if part is None or not whole:
        return ""
    return f"{100 * part / whole:.0f}%"


def _table(title: str, headers: list[str], rows: list[list[str]], explanation: str = "") -> str:
    header = "".join(f"<th>{escape(k)}</th>" for k in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">geen gegevens</td></tr>'
    below = f"<p class='uitleg'>{escape(explanation)}</p>" if explanation else ""
    return f"<section><h2>{escape(title)}</h2><table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>{below}</section>"


def _chart(figure) -> str:
    title = figure.axes[0].get_title()
    data = base64.b64encode(charts.svg(figure).encode()).decode()
    return f'<figure><img alt="{escape(title)}" src="data:image/svg+xml;base64,{data}"></figure>'


def _header(rapport: Rapport) -> str:
    f = rapport.head
    leerlingen = f.get((c.LEERLINGEN, ""), 0)
    cards = [
        ("leerlingen in het aanmeldproces", f.get((c.LEERLINGEN, ""), 0), ""),
        (
            "aangemeld vóór de deadline",
            f.get((c.AANGEMELD_VOOR_DEADLINE, ""), 0),
            _percent(f.get((c.AANGEMELD_VOOR_DEADLINE, ""), 0), leerlingen),
        ),
        ("aangemeld na de deadline", f.get((c.AANGEMELD_NA_DEADLINE, ""), 0), ""),
        ("teruggevallen na de deadline (aangemeld → nergens)", f.get((c.TERUGGEVALLEN, ""), 0), ""),
        ("geleverd door de school, nergens aangemeld", f.get((c.GELEVERD_NERGENS, ""), 0), ""),
    ]
    cards.append(("met diploma, nergens aangemeld", f.get((c.DIPLOMA_NERGENS, ""), 0), ""))
    if rapport.niveau is Level.LANDELIJK:
        cards.append(("aangemeld zonder levering door een school", f.get((c.ZONDER_LEVERING, ""), 0), ""))
    if rapport.niveau is not Level.SCHOOL:
        cards.append(("aanmeldingen bij mbo-instellingen", f.get((c.AANMELDINGEN, ""), 0), ""))
        cards.append(("intakes bij mbo-instellingen", f.get((c.INTAKES, ""), 0), ""))
    return (
        "<section class='kaarten'>"
        + "".join(
            f"<div class='kaart'><div class='getal'>{escape(_number(w))}</div><div class='pct'>{escape(p)}</div>"
            f"<div class='label'>{escape(label)}</div></div>"
            for label, w, p in cards
        )
        + "</section>"
    )


def _status_table(rapport: Rapport) -> str:
    f = rapport.head
    total = f.get((c.LEERLINGEN, ""), 0)
    rows = [
        [
            charts.STATUS_LABEL[s],
            _number(f.get((c.LEERLINGEN_PER_STATUS, s), 0)),
            _percent(f.get((c.LEERLINGEN_PER_STATUS, s), 0), total),
        ]
        for s in reversed(STATUS_ORDER)
    ]
    return _table(
        "Leerlingen per status",
        ["status", "leerlingen", "aandeel"],
        rows,
        "Per leerling telt de verste status van al zijn aanmeldingen.",
    )


def _examen_table(rapport: Rapport) -> str:
    f = rapport.head
    rows = [
        [label, _number(f.get((c.EXAMENRESULTAAT_PER_UITKOMST, uitkomst), 0))]
        for uitkomst, label in charts.EXAMEN_LABEL.items()
    ]
    rows.append(["met diploma, nergens aangemeld", _number(f.get((c.DIPLOMA_NERGENS, ""), 0))])
    return _table(
        "Examenresultaten en diploma zonder aanmelding",
        ["examenresultaat", "leerlingen"],
        rows,
        f"{_EXPLANATION_EXAMEN} {_EXPLANATION_DIPLOMA}",
    )


def _intake_table(rapport: Rapport) -> str:
    f = rapport.head
    outcomes = [u for u in charts.INTAKE_LABEL if u != c.UNKNOWN or (c.INTAKES_PER_UITKOMST, u) in f]
    rows = [[charts.INTAKE_LABEL[u], _number(f.get((c.INTAKES_PER_UITKOMST, u), 0))] for u in outcomes]
    rows.append(["totaal", _number(f.get((c.INTAKES, ""), 0))])
    return _table("Intakes per uitkomst", ["uitkomst", "intakes"], rows, _EXPLANATION_INTAKE)


def _doorloop_table(rapport: Rapport) -> str:
    f = rapport.head
    rows = [
        [
            charts.TRAJECT_LABEL[traject],
            _number(f.get((c.DOORLOOPTIJD_N, traject), 0)),
            _number(f.get((c.DOORLOOPTIJD_MEDIAAN, traject))) if (c.DOORLOOPTIJD_N, traject) in f else "",
            _number(f.get((c.DOORLOOPTIJD_P90, traject))) if (c.DOORLOOPTIJD_N, traject) in f else "",
        ]
        for traject, _, _ in TRAJECTEN
    ]
    return _table(
        "Doorlooptijden (dagen)",
        ["traject", "aanmeldingen", "mediaan", "90e percentiel"],
        rows,
        _EXPLANATION_DOORLOOP,
    )


def _per_eenheid(rapport: Rapport, niveau: Level, title: str, columns: list[tuple[str, str, str]]) -> str:
    rows = []
    for eenheid in rapport.eenheden(niveau):
        f = rapport.of(niveau, eenheid)
        rows.append(
            [eenheid, rapport.names.get(eenheid, "")]
            + [_trend_value(f, naam, dimensie) for naam, dimensie, _ in columns]
        )
    return _table(title, ["code", "naam"] + [k for _, _, k in columns], rows)


_LEERLING_COLUMNS = [
    (c.LEERLINGEN, "", "leerlingen"),
    (c.AANGEMELD_VOOR_DEADLINE, "", "aangemeld vóór deadline"),
    (c.AANGEMELD_NA_DEADLINE, "", "na deadline"),
    (c.TERUGGEVALLEN, "", "teruggevallen"),
    (c.GELEVERD_NERGENS, "", "geleverd, nergens aangemeld"),
    (c.EXAMENRESULTAAT_PER_UITKOMST, "geslaagd", "geslaagd"),
    (c.DIPLOMA_NERGENS, "", "met diploma, nergens aangemeld"),
]
_INSTELLING_COLUMNS = [
    (c.AANMELDINGEN, "", "aanmeldingen"),
    (c.AANMELDINGEN_VOOR_DEADLINE, "", "vóór deadline"),
    (c.AANMELDINGEN_NA_DEADLINE, "", "na deadline"),
    (c.AANMELDINGEN_PER_STATUS, "ingeschreven", "leidt tot inschrijving"),
    (c.AANMELDINGEN_PER_STATUS, "geweigerd", "leidt niet tot inschrijving"),
    (c.AANMELDINGEN_PER_STATUS, "ingetrokken", "ingetrokken"),
    (c.DOORLOOPTIJD_MEDIAAN, "aangemeld>ingeschreven", "mediaan aanmelding → inschrijving (dagen)"),
    (c.INTAKES, "", "intakes"),
    (c.INTAKES_PER_UITKOMST, "positiefAdvies", "intake positief advies"),
    (c.INTAKES_PER_UITKOMST, "negatiefAdvies", "intake negatief advies"),
    (c.INTAKES_PER_UITKOMST, "nietVerschenen", "intake niet verschenen"),
    (c.DOORLOOPTIJD_MEDIAAN, "aangemeld>intake", "mediaan aanmelding → intake (dagen)"),
    (c.DOORLOOPTIJD_MEDIAAN, "aangemeld>overeenkomst", "mediaan aanmelding → onderwijsovereenkomst (dagen)"),
]
#: The registration columns of the national per-region table: counts and intakes, no lead times.
_REGIO_INSTELLING_COLUMNS = _INSTELLING_COLUMNS[:3] + _INSTELLING_COLUMNS[7:11]


def _opleiding_table(rapport: Rapport) -> str:
    rows = []
    for eenheid in rapport.eenheden(Level.INSTELLING):
        for (name, dimensie), value in sorted(rapport.of(Level.INSTELLING, eenheid).items()):
            if name == c.AANMELDINGEN_PER_OPLEIDING:
                crebo, locatie = dimensie.split("/")
                rows.append([eenheid, crebo, locatie, _number(value)])
    return _table(
        "Aanmeldingen per opleiding en locatie",
        ["instelling", "crebo", "locatie", "aanmeldingen"],
        rows,
        "'-' = niet opgegeven door de instelling.",
    )


def _trend_value(cijfers: dict, name: str, dimensie: str) -> str:
    """An absent count had no observations (0); an absent lead time has no value at all."""
    if (name, dimensie) not in cijfers and name in (c.DOORLOOPTIJD_MEDIAAN, c.DOORLOOPTIJD_P90):
        return ""
    return _number(cijfers.get((name, dimensie), 0))


def _trend_table(rapport: Rapport) -> str:
    years = sorted(rapport.trend)
    rows = [
        [label] + [_trend_value(rapport.trend[j], name, dimensie) for j in years]
        for name, dimensie, label in trend_cijfers(rapport.niveau)
    ]
    return _table(
        "Trend over de cycli",
        ["kerncijfer"] + [str(j) for j in years],
        rows,
        "Stand aan het eind van elke cyclus; gesloten cycli uit de jaarcijfers, de lopende cyclus tot nu.",
    )


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#555} .kaarten{display:flex;flex-wrap:wrap;gap:.8rem;margin-top:1rem}
.kaart{border:1px solid #ccd;border-radius:6px;padding:.7rem 1rem;min-width:10rem;flex:1;background:#f7f9fc}
.getal{font-size:1.8rem;font-weight:600;color:#1f5fa8} .pct{color:#555;min-height:1.2em} .label{font-size:.9rem}
table{border-collapse:collapse;margin-top:.5rem} th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child,td:nth-child(2){text-align:left} thead{background:#eef2f8}
figure{margin:1.5rem 0} figure img{max-width:100%} .uitleg{font-size:.85rem;color:#555}
"""


def html(rapport: Rapport) -> str:
    """The report as one self-contained HTML document (charts as embedded SVG)."""
    title = f"Procesinformatie VVA — {_NIVEAU_NAAM[rapport.niveau]} {rapport.eenheid} {rapport.naam}".replace(
        "  ", " "
    )
    funnel, weeks, doorloop, trend = (figure for _, figure in charts.charts(rapport))
    parts = [
        _header(rapport),
        _chart(funnel),
        _status_table(rapport),
        _chart(weeks),
        _examen_table(rapport),
    ]
    if rapport.niveau is not Level.SCHOOL:
        parts.append(_intake_table(rapport))
    parts += [
        _chart(doorloop),
        _doorloop_table(rapport),
    ]
    if rapport.niveau is Level.REGIO:
        parts += [
            _per_eenheid(rapport, Level.INSTELLING, "Per mbo-instelling in de regio", _INSTELLING_COLUMNS),
            _opleiding_table(rapport),
            _per_eenheid(rapport, Level.SCHOOL, "Per VO-school in de regio", _LEERLING_COLUMNS),
        ]
    if rapport.niveau is Level.LANDELIJK:
        parts.append(
            _per_eenheid(
                rapport, Level.REGIO, "Per RMC-regio", _LEERLING_COLUMNS + _REGIO_INSTELLING_COLUMNS
            )
        )
    parts += [_chart(trend), _trend_table(rapport)]
    meta = "".join(f"<p class='meta'>{escape(line)}</p>" for line in _note(rapport))
    return (
        f"<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{meta}{''.join(parts)}</body></html>"
    )


def write_html(rapport: Rapport, path: Path) -> None:
    path.write_text(html(rapport), encoding="utf-8")


WRITERS = {"html": write_html, "csv": write_csv, "xlsx": write_xlsx}


def write(rapport: Rapport, output_format: str, path: Path) -> None:
    """Write ``rapport`` to ``path`` as html, csv or xlsx."""
    WRITERS[output_format](rapport, path)
