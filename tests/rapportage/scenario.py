"""A cycle (2027, deadline 1 April 2027) with a history small enough to compute every figure by hand.

Schools 99XA (RMC 21) and 99XC (RMC 29) deliver on 1 December 2026; MBO institutions 99XB (RMC 21),
99XE (RMC 29) and 99XF (RMC 19) report statuses, each recorded at noon on its reported date (the
broker's clock is fixed per step). The pupils and what happens to them:

| pupil | school | registrations (reported dates)                                              |
|-------|--------|------------------------------------------------------------------------------|
| P1    | 99XA   | 99XB 25180 @99XB01: aangemeld 10-01, geaccepteerd 20-01, ingeschreven 01-06   |
| P2    | 99XA   | 99XB 25180 @99XB01: aangemeld 01-02, geaccepteerd 15-02, ingeschreven 01-05   |
| P3    | 99XA   | 99XB 25181: aangemeld 01-03, geaccepteerd 04-03; 99XE 25190: aangemeld 02-03, |
|       |        | ingetrokken 02-05                                                            |
| P4    | 99XA   | 99XB (no crebo): aangemeld 15-03, ingetrokken 10-04 (falls back)              |
| P5    | 99XA   | 99XE 25180: aangemeld 15-04 (late), geaccepteerd 15-05                        |
| P6    | 99XA   | 99XB 25181: aanmeldingOntvangen 20-03, aangemeld 25-03, geweigerd 01-05 (falls back) |
| P7    | 99XA   | none; stays actief                                                           |
| P8    | 99XA   | none; withdrawn 01-02 with andereVervolgkeuze                                |
| Q1    | 99XC   | 99XE 25182: aangemeld 05-01, geaccepteerd 25-01, ingeschreven 24-02           |
| Q2    | 99XC   | none; withdrawn 01-02 with gaatNaarHavoVwo                                   |
| Q3    | 99XC   | 99XE (no crebo): aangemeld 02-04 (late)                                      |
| R1    | —      | 99XF (no crebo): aangemeld 10-02 (no school delivered R1)                     |
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from broker.domain.cycle import Calendar
from broker.registry.repository import PartijRegistry
from broker.service.aanmeldingen import AanmeldingInput, aanleveren_aanmeldingen
from broker.service.context import Caller, Processing
from broker.service.leerlingen import LeerlingInput, aanleveren_leerlingen
from tests.helpers import bsn

JAAR = 2027
PEILDATUM = date(2027, 6, 15)
OIN = {
    "99XA": "0000000700099XA00000",
    "99XC": "0000000700099XC00000",
    "99XB": "0000000700099XB00000",
    "99XE": "0000000700099XE00000",
    "99XF": "0000000700099XF00000",
}


def _numbers(names: list[str]) -> dict[str, str]:
    """A valid BSN per name (prefixes without a valid check digit are skipped)."""
    result, prefix = {}, 30000000
    for naam in names:
        while True:
            prefix += 1
            try:
                result[naam] = bsn(str(prefix))
                break
            except ValueError:
                continue
    return result


NUMBERS = _numbers(["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "Q1", "Q2", "Q3", "R1"])

_DELIVERIES = [  # (school, pupil, vestiging)
    ("99XA", "P1", "99XA01"),
    ("99XA", "P2", None),
    ("99XA", "P3", None),
    ("99XA", "P4", "99XA02"),
    ("99XA", "P5", None),
    ("99XA", "P6", None),
    ("99XA", "P7", None),
    ("99XA", "P8", None),
    ("99XC", "Q1", None),
    ("99XC", "Q2", None),
    ("99XC", "Q3", None),
]
_AFMELDINGEN = [("99XA", "P8", "andereVervolgkeuze"), ("99XC", "Q2", "gaatNaarHavoVwo")]
_STATUSES = [  # (reported date, pupil, institution, status, crebo, locatie)
    (date(2027, 1, 5), "Q1", "99XE", "aangemeld", "25182", None),
    (date(2027, 1, 10), "P1", "99XB", "aangemeld", "25180", "99XB01"),
    (date(2027, 1, 20), "P1", "99XB", "geaccepteerd", "25180", None),
    (date(2027, 1, 25), "Q1", "99XE", "geaccepteerd", "25182", None),
    (date(2027, 2, 1), "P2", "99XB", "aangemeld", "25180", "99XB01"),
    (date(2027, 2, 10), "R1", "99XF", "aangemeld", None, None),
    (date(2027, 2, 15), "P2", "99XB", "geaccepteerd", "25180", None),
    (date(2027, 2, 24), "Q1", "99XE", "ingeschreven", "25182", None),
    (date(2027, 3, 1), "P3", "99XB", "aangemeld", "25181", None),
    (date(2027, 3, 2), "P3", "99XE", "aangemeld", "25190", None),
    (date(2027, 3, 4), "P3", "99XB", "geaccepteerd", "25181", None),
    (date(2027, 3, 15), "P4", "99XB", "aangemeld", None, None),
    (date(2027, 3, 20), "P6", "99XB", "aanmeldingOntvangen", "25181", None),
    (date(2027, 3, 25), "P6", "99XB", "aangemeld", "25181", None),
    (date(2027, 4, 2), "Q3", "99XE", "aangemeld", None, None),
    (date(2027, 4, 10), "P4", "99XB", "ingetrokken", None, None),
    (date(2027, 4, 15), "P5", "99XE", "aangemeld", "25180", None),
    (date(2027, 5, 1), "P2", "99XB", "ingeschreven", "25180", None),
    (date(2027, 5, 1), "P6", "99XB", "geweigerd", "25181", None),
    (date(2027, 5, 2), "P3", "99XE", "ingetrokken", "25190", None),
    (date(2027, 5, 15), "P5", "99XE", "geaccepteerd", "25180", None),
    (date(2027, 6, 1), "P1", "99XB", "ingeschreven", "25180", None),
]


def _processing_for(session, keyring, day: date, oin: str) -> tuple[Processing, Caller]:
    now = datetime.combine(day, time(12), UTC)
    partij = PartijRegistry(session).find(oin)
    return Processing(session, keyring, Calendar(), now=now), Caller(partij, f"urn:uuid:{day}-{oin}")


def build_cyclus(session, keyring) -> None:
    """Apply the scenario through the service layer (as the SOAP operations would) and commit."""
    for school in ("99XA", "99XC"):
        processing, call = _processing_for(session, keyring, date(2026, 12, 1), OIN[school])
        records = [
            LeerlingInput(i, NUMBERS[p], None, s, v, "1011AB", "0363", "toevoegen", None)
            for i, (s, p, v) in enumerate(_DELIVERIES, start=1)
            if s == school
        ]
        result = aanleveren_leerlingen(processing, call, records)
        assert result.rejected_count == 0, result
    for school, p, reden in _AFMELDINGEN:
        processing, call = _processing_for(session, keyring, date(2027, 2, 1), OIN[school])
        record = LeerlingInput(1, NUMBERS[p], None, school, None, "1011AB", "0363", "afmelden", reden)
        assert aanleveren_leerlingen(processing, call, [record]).rejected_count == 0
    for day, p, brin, status, crebo, location in _STATUSES:
        processing, call = _processing_for(session, keyring, day, OIN[brin])
        record = AanmeldingInput(1, NUMBERS[p], None, brin, status, day, crebo, location)
        result = aanleveren_aanmeldingen(processing, call, [record])
        assert result.rejected_count == 0, (day, p, result.outcomes)
    session.commit()
