"""The report's charts, drawn with matplotlib (no display: ``Figure`` on the Agg/SVG backends) and
returned as SVG text to embed in the HTML file. Every chart has a title, labelled axes and units.

A suppressed cell is drawn as a grey "x" on the axis (height 0) and named in the legend, so a reader
sees that something is withheld without learning how much: a complementary cell may be large, so no
bar height would be true.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from broker.rapportage import cijfers as c
from broker.rapportage.cijfers import BUCKETS, STATUS_ORDER, TRAJECTEN
from broker.rapportage.rapport import Rapport
from broker.rapportage.trends import TREND_CIJFERS

#: The one marker of every suppressed cell, in tables and charts: a complementary cell may be
#: large, so "<5" (or a bar of height 4) would lie about it.
ONDERDRUKT = "x"
LEGEND_ONDERDRUKT = (
    "x = onderdrukt: minder dan 5, of weggelaten zodat een klein aantal niet terug te rekenen is"
)
_ONDERDRUKT = dict(marker="x", color="#888888", linestyle="none", markersize=8)
_COLOURS = ["#1f5fa8", "#e07b00", "#2b8a3e", "#b02a37", "#6f42c1", "#0b7285", "#868e96", "#5c940d", "#d6336c"]

STATUS_LABEL = {
    c.GEEN_AANMELDING: "geen aanmelding",
    "ingetrokken": "ingetrokken",
    "geweigerd": "leidt niet tot inschrijving",
    "aanmeldingOntvangen": "aanmelding ontvangen",
    "aangemeld": "aangemeld",
    "geaccepteerd": "onderwijsovereenkomst aangeboden",
    "ingeschreven": "ingeschreven",
}
#: Dutch labels of the lead-time trajects (``TRAJECTEN``).
TRAJECT_LABEL = {
    "aangemeld>geaccepteerd": "aanmelding → geaccepteerd",
    "geaccepteerd>ingeschreven": "geaccepteerd → inschrijving",
    "aangemeld>ingeschreven": "aanmelding → inschrijving",
    "aangemeld>intake": "aanmelding → intake",
    "intake>ingeschreven": "intake → inschrijving",
    "ingeschreven>overeenkomst": "inschrijving → onderwijsovereenkomst",
    "aangemeld>overeenkomst": "aanmelding → onderwijsovereenkomst",
}
#: Dutch labels of the intake outcomes and exam results.
INTAKE_LABEL = {
    "positiefAdvies": "positief advies",
    "negatiefAdvies": "negatief advies",
    "nietVerschenen": "niet verschenen",
    c.UNKNOWN: "uitkomst niet gemeld",
}
EXAMEN_LABEL = {
    "geslaagd": "geslaagd (diploma)",
    "gezakt": "gezakt",
    "doorstroomVo": "doorstroom binnen het vo (bijv. naar havo)",
    "vertrekZonderDiploma": "vertrek zonder diploma",
}


def svg(figure: Figure) -> str:
    """The figure as SVG text; text stays text (selectable, searchable), no creation date."""
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def charts(rapport: Rapport) -> list[tuple[str, Figure]]:
    """The report's charts in reading order: (name, figure)."""
    return [
        ("statustrechter", status_funnel(rapport)),
        ("aanmeldingen_per_week", aanmeldingen_per_week(rapport)),
        ("doorlooptijden", doorlooptijden(rapport)),
        ("trend", trend_lines(rapport)),
    ]


def _substantiate(as_, positions, values, **kw):
    """Bars; a suppressed value (None) is a grey "x" on the axis. Returns whether any was."""
    real = [(p, w) for p, w in zip(positions, values, strict=True) if w is not None]
    missing = [p for p, w in zip(positions, values, strict=True) if w is None]
    if real:
        as_.bar([p for p, _ in real], [w for _, w in real], **kw)
    if missing:
        as_.plot(missing, [0] * len(missing), **_ONDERDRUKT)
    return bool(missing)


def _legend_onderdrukt(as_, extra=()) -> None:
    handles = list(extra) + [Line2D([], [], label=LEGEND_ONDERDRUKT, **_ONDERDRUKT)]
    as_.legend(handles=handles, loc="best", fontsize=8)


def status_funnel(rapport: Rapport) -> Figure:
    """Pupils per status on the peildatum, furthest status at the top (the funnel)."""
    figures = rapport.head
    figure = Figure(figsize=(8, 3.8))
    as_ = figure.subplots()
    statuses = list(STATUS_ORDER)
    values = [figures.get((c.LEERLINGEN_PER_STATUS, s), 0) for s in statuses]
    positions = list(range(len(statuses)))
    real = [(p, w) for p, w in zip(positions, values, strict=True) if w is not None]
    missing = [p for p, w in zip(positions, values, strict=True) if w is None]
    as_.barh([p for p, _ in real], [w for _, w in real], color=_COLOURS[0])
    if missing:
        as_.plot([0] * len(missing), missing, **_ONDERDRUKT)
        _legend_onderdrukt(as_)
    as_.set_yticks(positions, [STATUS_LABEL[s] for s in statuses])
    as_.set_title(f"Leerlingen per status op {rapport.peildatum:%d-%m-%Y} (verste status per leerling)")
    as_.set_xlabel("aantal leerlingen")
    as_.set_ylabel("status")
    return figure


def aanmeldingen_per_week(rapport: Rapport) -> Figure:
    """Registrations per ISO week against the deadline: first registrations of the school's pupils
    for a school, registrations at the institutions otherwise."""
    name = c.EERSTE_AANMELDING_PER_WEEK if rapport.niveau is c.Level.SCHOOL else c.AANMELDINGEN_PER_WEEK
    weeks = {d: w for (n, d), w in rapport.head.items() if n == name}
    figure = Figure(figsize=(9, 3.8))
    as_ = figure.subplots()
    mondays = {date.fromisocalendar(int(w[:4]), int(w[6:]), 1): v for w, v in weeks.items()}
    if mondays:
        positions = sorted(mondays)
        if _substantiate(
            as_, positions, [mondays[p] for p in positions], width=5, color=_COLOURS[0], align="edge"
        ):
            _legend_onderdrukt(as_)
    as_.axvline(rapport.deadline + timedelta(days=1), color=_COLOURS[3], linestyle="--")
    as_.annotate(
        f"deadline {rapport.deadline:%d-%m-%Y}",
        xy=(rapport.deadline + timedelta(days=1), 1),
        xycoords=("data", "axes fraction"),
        xytext=(4, -14),
        textcoords="offset points",
        color=_COLOURS[3],
        fontsize=8,
    )
    what = "eerste aanmeldingen van leerlingen" if name == c.EERSTE_AANMELDING_PER_WEEK else "aanmeldingen"
    as_.set_title(f"Aanmeldingen per week, cyclus {rapport.jaar}")
    as_.set_xlabel("week (datum van de maandag)")
    as_.set_ylabel(f"aantal {what}")
    figure.autofmt_xdate()
    return figure


def doorlooptijden(rapport: Rapport) -> Figure:
    """The lead-time distribution per traject, in day buckets."""
    figures = rapport.head
    figure = Figure(figsize=(10, 4.2))
    as_ = figure.subplots()
    width = 0.8 / len(TRAJECTEN)
    middle = (len(TRAJECTEN) - 1) / 2
    onderdrukt = False
    handles = []
    for i, (traject, _, _) in enumerate(TRAJECTEN):
        values = [figures.get((c.DOORLOOPTIJD_VERDELING, f"{traject} {b}"), 0) for b, _, _ in BUCKETS]
        positions = [j + (i - middle) * width for j in range(len(BUCKETS))]
        onderdrukt |= _substantiate(as_, positions, values, width=width, color=_COLOURS[i])
        handles.append(Patch(color=_COLOURS[i], label=TRAJECT_LABEL[traject]))
    as_.set_xticks(range(len(BUCKETS)), [b for b, _, _ in BUCKETS])
    as_.set_title("Verdeling van de doorlooptijden")
    as_.set_xlabel("doorlooptijd (dagen)")
    as_.set_ylabel("aantal aanmeldingen")
    if onderdrukt:
        _legend_onderdrukt(as_, handles)
    else:
        as_.legend(handles=handles, loc="best", fontsize=8)
    return figure


def trend_lines(rapport: Rapport) -> Figure:
    """The key counts per cycle year (suppressed years left out of a line, a gap)."""
    figure = Figure(figsize=(9, 3.8))
    as_ = figure.subplots()
    years = sorted(rapport.trend)
    for i, (name, dimensie, label) in enumerate(TREND_CIJFERS[:6]):
        values = [rapport.trend[j].get((name, dimensie), 0) for j in years]
        as_.plot(
            years,
            [float("nan") if w is None else w for w in values],
            marker="o",
            color=_COLOURS[i],
            label=label,
        )
    as_.set_xticks(years, [str(j) for j in years])
    as_.set_title("Trend over de cycli (stand aan het eind van elke cyclus)")
    as_.set_xlabel("cyclusjaar (jaar van de deadline)")
    as_.set_ylabel("aantal leerlingen")
    as_.legend(loc="best", fontsize=8)
    return figure
