"""A cycle (2027, deadline 1 April 2027) with intakes, onderwijsovereenkomsten and exam results,
small enough to compute every new figure of issue 16 by hand (``test_procesfeiten``).

Schools 99XA and 99XG (VSO, a VO-side school) are in RMC region 21, 99XC in region 29; MBO
institutions 99XB (21) and 99XE (29). Schools deliver on 1 December 2026; statuses go in through the
service layer at noon on their date (as in ``scenario``), and so do the new facts: intakes and
overeenkomsten in ``aanleveren_aanmeldingen`` records, exam results in ``aanleveren_leerlingen``
mutations. Each fact is recorded at noon on its date unless said otherwise.

| pupil | school | path (2027)                                                                            |
|-------|--------|----------------------------------------------------------------------------------------|
| A1    | 99XA   | 99XB aangemeld 01-02, intake 11-02 positief (geaccepteerd), ingeschreven 03-03, ovk 08-03 |
| A2    | 99XA   | 99XB aangemeld 08-02, intake 22-02 positief, ingeschreven 24-03, ovk 31-03               |
| A3    | 99XA   | 99XB aangemeld 15-02, intake 22-02 positief, ingeschreven 03-04, ovk 03-04               |
| A4    | 99XA   | 99XB aangemeld 01-03, intake 22-03 positief, ingeschreven 06-04, ovk 16-04               |
| A5    | 99XA   | 99XB aangemeld 08-03, intake 11-03 positief, ingeschreven 05-04, ovk 19-04               |
| A6    | 99XA   | 99XB aangemeld 01-03, intake 15-03 negatief, geweigerd 20-03 (registered nowhere)       |
| A7    | 99XA   | 99XB aangemeld 10-03, intake 24-03 nietVerschenen (stays aangemeld)                     |
| A8    | 99XA   | no registration                                                                        |
| A9    | 99XA   | no registration                                                                        |
| A10   | 99XA   | withdrawn 10-06 gaatNaarHavoVwo                                                        |
| G1-G3 | 99XG   | no registration                                                                        |
| G4    | 99XG   | 99XE aangemeld 01-02, intake 05-02 positief, ingeschreven 01-03, ovk 29-03               |
| G5    | 99XG   | 99XE aangemeld 01-03, intake 05-03 recorded nietVerschenen, corrected on 06-03 to        |
|       |        | negatief, geweigerd 10-03; then 99XB aangemeld 15-03 (no intake)                       |
| C1    | 99XC   | 99XE aangemeld 15-01, intake 25-01 positief, ingeschreven 10-02, ovk 12-02               |
| C2    | 99XC   | withdrawn 10-06 gaatNaarHavoVwo                                                        |
| C3    | 99XC   | no registration                                                                        |
| C4    | 99XC   | no registration                                                                        |
| C5    | 99XC   | 99XE aangemeld 01-03, intake 08-03 nietVerschenen, intake 15-03 positief, ingeschreven   |
|       |        | 12-04, no overeenkomst                                                                 |

Exam results, reported on 10 June: geslaagd A1-A8, G1-G5, C1, C5; gezakt A9, C3, C4; doorstroomVo
A10, C2 (reported with their withdrawal). C4 passes the re-sit: geslaagd reported on 20 June, and
on 25 June the school changes C4's postcode (a mutation without exam result, which keeps it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.status import ExamenUitkomst, IntakeUitkomst
from broker.service.aanmeldingen import AanmeldingInput, aanleveren_aanmeldingen
from broker.service.leerlingen import LeerlingInput, aanleveren_leerlingen
from tests.helpers import bsns
from tests.rapportage.scenario import OIN, _processing_for

OIN_99XG = "0000000700099XG00000"
PEILDATUM = date(2027, 7, 1)
_P, _N, _X = IntakeUitkomst.POSITIEF_ADVIES, IntakeUitkomst.NEGATIEF_ADVIES, IntakeUitkomst.NIET_VERSCHENEN
_G, _Z, _D = ExamenUitkomst.GESLAAGD, ExamenUitkomst.GEZAKT, ExamenUitkomst.DOORSTROOM_VO

LEERLINGEN = {
    "99XA": [f"A{i}" for i in range(1, 11)],
    "99XG": [f"G{i}" for i in range(1, 6)],
    "99XC": [f"C{i}" for i in range(1, 6)],
}
NUMBERS = dict(zip([p for ps in LEERLINGEN.values() for p in ps], bsns(20, 41000000), strict=True))
SCHOOL = {p: school for school, ps in LEERLINGEN.items() for p in ps}


def _d(day: str) -> date:
    """ "dd-mm" in 2027."""
    return date(2027, int(day[3:]), int(day[:2]))


#: (date, pupil, institution, status)
_STATUSES = [
    ("15-01", "C1", "99XE", "aangemeld"),
    ("25-01", "C1", "99XE", "geaccepteerd"),
    ("10-02", "C1", "99XE", "ingeschreven"),
    ("01-02", "A1", "99XB", "aangemeld"),
    ("11-02", "A1", "99XB", "geaccepteerd"),
    ("03-03", "A1", "99XB", "ingeschreven"),
    ("08-02", "A2", "99XB", "aangemeld"),
    ("22-02", "A2", "99XB", "geaccepteerd"),
    ("24-03", "A2", "99XB", "ingeschreven"),
    ("15-02", "A3", "99XB", "aangemeld"),
    ("22-02", "A3", "99XB", "geaccepteerd"),
    ("03-04", "A3", "99XB", "ingeschreven"),
    ("01-03", "A4", "99XB", "aangemeld"),
    ("22-03", "A4", "99XB", "geaccepteerd"),
    ("06-04", "A4", "99XB", "ingeschreven"),
    ("08-03", "A5", "99XB", "aangemeld"),
    ("11-03", "A5", "99XB", "geaccepteerd"),
    ("05-04", "A5", "99XB", "ingeschreven"),
    ("01-03", "A6", "99XB", "aangemeld"),
    ("20-03", "A6", "99XB", "geweigerd"),
    ("10-03", "A7", "99XB", "aangemeld"),
    ("01-02", "G4", "99XE", "aangemeld"),
    ("05-02", "G4", "99XE", "geaccepteerd"),
    ("01-03", "G4", "99XE", "ingeschreven"),
    ("01-03", "G5", "99XE", "aangemeld"),
    ("10-03", "G5", "99XE", "geweigerd"),
    ("15-03", "G5", "99XB", "aangemeld"),
    ("01-03", "C5", "99XE", "aangemeld"),
    ("15-03", "C5", "99XE", "geaccepteerd"),
    ("12-04", "C5", "99XE", "ingeschreven"),
]
#: (intake date, pupil, institution, outcome, recorded on (date) when not the intake date)
_INTAKES = [
    ("11-02", "A1", "99XB", _P, None),
    ("22-02", "A2", "99XB", _P, None),
    ("22-02", "A3", "99XB", _P, None),
    ("22-03", "A4", "99XB", _P, None),
    ("11-03", "A5", "99XB", _P, None),
    ("15-03", "A6", "99XB", _N, None),
    ("24-03", "A7", "99XB", _X, None),
    ("05-02", "G4", "99XE", _P, None),
    ("05-03", "G5", "99XE", _X, None),
    ("05-03", "G5", "99XE", _N, "06-03"),  # the institution corrects the outcome of the same intake
    ("25-01", "C1", "99XE", _P, None),
    ("08-03", "C5", "99XE", _X, None),
    ("15-03", "C5", "99XE", _P, None),
]
#: (date signed, pupil, institution)
_OVEREENKOMSTEN = [
    ("08-03", "A1", "99XB"),
    ("31-03", "A2", "99XB"),
    ("03-04", "A3", "99XB"),
    ("16-04", "A4", "99XB"),
    ("19-04", "A5", "99XB"),
    ("29-03", "G4", "99XE"),
    ("12-02", "C1", "99XE"),
]
_GESLAAGD = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "G1", "G2", "G3", "G4", "G5", "C1", "C5"]
_EXAMENS = [("10-06", p, _G) for p in _GESLAAGD] + [
    ("10-06", "A9", _Z),
    ("10-06", "C3", _Z),
    ("10-06", "C4", _Z),
    ("10-06", "A10", _D),
    ("10-06", "C2", _D),
    ("20-06", "C4", _G),
]


def _afternoon(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


def _register_99xg(session: Session) -> None:
    """99XG is a VSO school in the demo reference data (region 21) but no party of the demo registry."""
    partij = models.Partij(oin=OIN_99XG, soort="vo-school", naam="VSO De Verbeelding (FICTIEF)")
    partij.scopes.append(models.PartijScope(soort="brin", waarde="99XG"))
    session.add(partij)
    session.flush()


def _oin(brin: str) -> str:
    return OIN_99XG if brin == "99XG" else OIN[brin]


def _deliver_task(
    session,
    keyring,
    day: date,
    school: str,
    pupil: str,
    mutatie: str,
    reden=None,
    postcode="1011AB",
    examen=None,
):
    processing, call = _processing_for(session, keyring, day, _oin(school))
    record = LeerlingInput(
        1,
        NUMBERS[pupil],
        None,
        school,
        None,
        postcode,
        "0363",
        mutatie,
        reden,
        examen_uitkomst=examen,
        examen_datum=day if examen else None,
    )
    outcome = aanleveren_leerlingen(processing, call, [record])
    assert outcome.rejected_count == 0, (pupil, mutatie, outcome)


def build_procesfeiten(session: Session, keyring) -> None:
    """Apply the scenario through the service layer, as the SOAP operations would, in date order
    (on one day: statuses before the facts they allow), and commit. An intake or overeenkomst goes in
    with the registration's current status, as an institution's system reports it."""
    _register_99xg(session)
    for school, pupils in LEERLINGEN.items():
        for pupil in pupils:
            _deliver_task(session, keyring, date(2026, 12, 1), school, pupil, "toevoegen")
    events = (
        [(_d(day), 0, pupil, brin, {"status": status}) for day, pupil, brin, status in _STATUSES]
        + [
            (_d(recorded or day), 1, pupil, brin, {"intake_datum": _d(day), "intake_uitkomst": outcome})
            for day, pupil, brin, outcome, recorded in _INTAKES
        ]
        + [(_d(day), 2, pupil, brin, {"overeenkomst_datum": _d(day)}) for day, pupil, brin in _OVEREENKOMSTEN]
    )
    current: dict[tuple[str, str], tuple[str, date]] = {}
    for day, _, pupil, brin, fact in sorted(events, key=lambda g: g[:2]):
        status, datum = (fact.pop("status"), day) if "status" in fact else current[(pupil, brin)]
        current[(pupil, brin)] = (status, datum)
        processing, call = _processing_for(session, keyring, day, _oin(brin))
        record = AanmeldingInput(1, NUMBERS[pupil], None, brin, status, datum, None, None, **fact)
        outcome = aanleveren_aanmeldingen(processing, call, [record])
        assert outcome.rejected_count == 0, (day, pupil, fact, outcome.outcomes)
    examens = sorted(_EXAMENS, key=lambda e: _d(e[0]))
    for day, pupil, outcome in examens:
        if pupil in ("A10", "C2"):  # withdrawn with their result
            _deliver_task(
                session,
                keyring,
                _d(day),
                SCHOOL[pupil],
                pupil,
                "afmelden",
                "gaatNaarHavoVwo",
                examen=outcome,
            )
        else:
            _deliver_task(session, keyring, _d(day), SCHOOL[pupil], pupil, "wijzigen", examen=outcome)
    _deliver_task(session, keyring, _d("25-06"), "99XC", "C4", "wijzigen", postcode="3011AE")
    session.commit()
