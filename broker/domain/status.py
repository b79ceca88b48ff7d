"""Registration statuses, their allowed transitions, and the mutation types of the VO flow.

Legal basis: WEB art. 8.0.3 and the Regeling gegevensverstrekking bij overstap naar het mbo. The law
names five statuses (aangemeld, onderwijsovereenkomst aangeboden, leidt niet tot inschrijving,
ingetrokken, ingeschreven); the MBO koppelpunt adds "aanmelding ontvangen" (the VVA MBO koppelpunt's status set).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from broker.domain.meldingen import (
    EXAMENRESULTAAT_ONGELDIG,
    INTAKE_ONGELDIG,
    MUTATIE_ONGELDIG,
    OVERGANG_NIET_TOEGESTAAN,
    REDEN_ONTBREEKT_OF_ONGELDIG,
    STATUS_ONGELDIG,
    Melding,
    Rejection,
)


class AanmeldStatus(StrEnum):
    """Status of one registration of a pupil at one MBO institution (WEB art. 8.0.3)."""

    AANMELDING_ONTVANGEN = "aanmeldingOntvangen"  # MBO koppelpunt addition, not in the law
    AANGEMELD = "aangemeld"
    GEACCEPTEERD = "geaccepteerd"  # onderwijsovereenkomst aangeboden
    INGESCHREVEN = "ingeschreven"
    GEWEIGERD = "geweigerd"  # aanmelding leidt niet tot inschrijving
    INGETROKKEN = "ingetrokken"


# A pupil counts as "aangemeld" while at least one registration is in one of these statuses.
ACTIEF_AANGEMELD: frozenset[AanmeldStatus] = frozenset(
    {
        AanmeldStatus.AANMELDING_ONTVANGEN,
        AanmeldStatus.AANGEMELD,
        AanmeldStatus.GEACCEPTEERD,
        AanmeldStatus.INGESCHREVEN,
    }
)

_S = AanmeldStatus
ALLOWED_OVERGANGEN: dict[AanmeldStatus | None, frozenset[AanmeldStatus]] = {
    # Institutions often report late, so the first message may already carry a later status.
    None: frozenset({_S.AANMELDING_ONTVANGEN, _S.AANGEMELD, _S.GEACCEPTEERD, _S.INGESCHREVEN}),
    _S.AANMELDING_ONTVANGEN: frozenset({_S.AANGEMELD, _S.GEACCEPTEERD, _S.GEWEIGERD, _S.INGETROKKEN}),
    _S.AANGEMELD: frozenset({_S.GEACCEPTEERD, _S.GEWEIGERD, _S.INGETROKKEN}),
    _S.GEACCEPTEERD: frozenset({_S.INGESCHREVEN, _S.GEWEIGERD, _S.INGETROKKEN}),
    _S.INGESCHREVEN: frozenset({_S.INGETROKKEN}),
    # A refused or withdrawn registration may be followed by a new attempt at the same institution.
    _S.GEWEIGERD: frozenset({_S.AANMELDING_ONTVANGEN, _S.AANGEMELD}),
    _S.INGETROKKEN: frozenset({_S.AANMELDING_ONTVANGEN, _S.AANGEMELD}),
}
del _S


class TransitionNotAllowed(Rejection):
    """A status transition outside ``ALLOWED_OVERGANGEN``; melding OVERGANG_NIET_TOEGESTAAN.

    ``.van`` and ``.naar`` hold the two statuses (not personal data on their own) for the audit log.
    """

    def __init__(self, van: AanmeldStatus | None, naar: AanmeldStatus) -> None:
        super().__init__(OVERGANG_NIET_TOEGESTAAN)
        self.van = van
        self.naar = naar

    def __reduce__(self):  # keeps the exception picklable despite the changed constructor
        return (type(self), (self.van, self.naar))


def check_overgang(van: AanmeldStatus | None, naar: AanmeldStatus) -> bool:
    """Check a reported status change of one registration.

    Input: the current status (None for a registration the broker has not seen yet) and the reported one.
    Output: False when ``van == naar`` (an idempotent repeat; nothing to record), True when the transition
    is allowed and must be recorded.
    Raises ``TransitionNotAllowed`` for any other transition, and also when ``naar`` is not a known
    status.
    Source rule: WEB art. 8.0.3; status set of the VVA MBO koppelpunt.
    """
    if van == naar:
        return False
    if naar in ALLOWED_OVERGANGEN.get(van, frozenset()):
        return True
    raise TransitionNotAllowed(van, naar)


class MboGangerStatus(StrEnum):
    """Whether a VO school still reports a pupil as potential mbo-ganger (flow a)."""

    ACTIEF = "actief"
    AFGEMELD = "afgemeld"


class AfmeldReden(StrEnum):
    """Why a VO school withdraws a potential mbo-ganger (flow a: havo, fails the exam, moves, ...)."""

    GAAT_NAAR_HAVO_VWO = "gaatNaarHavoVwo"
    NIET_GESLAAGD_BLIJFT_ZITTEN = "nietGeslaagdBlijftZitten"
    VERHUISD = "verhuisd"
    ANDERE_VERVOLGKEUZE = "andereVervolgkeuze"
    FOUTIEF_AANGELEVERD = "foutiefAangeleverd"
    NIET_MEER_AANGELEVERD = "nietMeerAangeleverd"


class IntakeUitkomst(StrEnum):
    """The outcome of an intake at an MBO institution (issue 16): the advice given, or that the pupil
    did not come. Positief is a successful intake, negatief and nietVerschenen are not."""

    POSITIEF_ADVIES = "positiefAdvies"
    NEGATIEF_ADVIES = "negatiefAdvies"
    NIET_VERSCHENEN = "nietVerschenen"


class ExamenUitkomst(StrEnum):
    """The VO outcome of the school year a VO school reports for a pupil (issue 16). Only
    ``geslaagd`` is a diploma; whether the pupil stays a potential mbo-ganger remains the school's
    decision (a pupil moving on to havo is withdrawn with ``gaatNaarHavoVwo`` as before)."""

    GESLAAGD = "geslaagd"
    GEZAKT = "gezakt"
    DOORSTROOM_VO = "doorstroomVo"
    VERTREK_ZONDER_DIPLOMA = "vertrekZonderDiploma"


class Mutatie(StrEnum):
    """Kind of change a VO school sends for a potential mbo-ganger."""

    TOEVOEGEN = "toevoegen"
    WIJZIGEN = "wijzigen"
    AFMELDEN = "afmelden"


def check_mutatie(mutatie: Mutatie, reason: AfmeldReden | None) -> None:
    """Check that a reason is given exactly when the mutation is ``afmelden``.

    Input: a Mutatie and an optional AfmeldReden. Output: None.
    Raises ``Rejection(REDEN_ONTBREEKT_OF_ONGELDIG)`` when afmelden has no reason or toevoegen/wijzigen
    carries one (or the reason is not an AfmeldReden value), and ``Rejection(MUTATIE_ONGELDIG)`` when
    ``mutatie`` is not a Mutatie value.
    Source rule: VVA flow a (the school reports every change, with the reason for withdrawal).
    """
    mutatie = parse_mutatie(mutatie)
    if reason is not None:
        reason = parse_afmeldreden(reason)
    if (mutatie is Mutatie.AFMELDEN) != (reason is not None):
        raise Rejection(REDEN_ONTBREEKT_OF_ONGELDIG)


_E = TypeVar("_E", bound=StrEnum)


def _parse_enum(kind: type[_E], value: str, melding: Melding) -> _E:
    if not isinstance(value, str):
        raise Rejection(melding)
    try:
        return kind(value.strip())
    except ValueError as error:
        raise Rejection(melding) from error


def parse_aanmeldstatus(s: str) -> AanmeldStatus:
    """Parse a status value from a message.

    Input: str, exactly one of the AanmeldStatus values (case-sensitive, as in the XSD enumeration);
    surrounding whitespace is removed. Output: AanmeldStatus.
    Raises ``Rejection(STATUS_ONGELDIG)`` otherwise. Source rule: WEB art. 8.0.3; VVA status set.
    """
    return _parse_enum(AanmeldStatus, s, STATUS_ONGELDIG)


def parse_mutatie(s: str) -> Mutatie:
    """Parse a mutation type from a message.

    Input: str "toevoegen", "wijzigen" or "afmelden" (case-sensitive; surrounding whitespace removed).
    Output: Mutatie. Raises ``Rejection(MUTATIE_ONGELDIG)`` otherwise. Source rule: VVA flow a.
    """
    return _parse_enum(Mutatie, s, MUTATIE_ONGELDIG)


def parse_afmeldreden(s: str) -> AfmeldReden:
    """Parse a withdrawal reason from a message.

    Input: str, one of the AfmeldReden values (case-sensitive; surrounding whitespace removed).
    Output: AfmeldReden. Raises ``Rejection(REDEN_ONTBREEKT_OF_ONGELDIG)`` otherwise.
    Source rule: VVA flow a.
    """
    return _parse_enum(AfmeldReden, s, REDEN_ONTBREEKT_OF_ONGELDIG)


def parse_intake_uitkomst(s: str) -> IntakeUitkomst:
    """Parse an intake outcome (issue 16). Input: str, one of the IntakeUitkomst values (case-sensitive;
    surrounding whitespace removed). Raises ``Rejection(INTAKE_ONGELDIG)`` otherwise."""
    return _parse_enum(IntakeUitkomst, s, INTAKE_ONGELDIG)


def parse_examen_uitkomst(s: str) -> ExamenUitkomst:
    """Parse a VO exam outcome (issue 16). Input: str, one of the ExamenUitkomst values (case-sensitive;
    surrounding whitespace removed). Raises ``Rejection(EXAMENRESULTAAT_ONGELDIG)`` otherwise."""
    return _parse_enum(ExamenUitkomst, s, EXAMENRESULTAAT_ONGELDIG)


@dataclass(frozen=True)
class Overgang:
    """One recorded status change of a registration; reports compute lead times from these.

    ``datum`` is the date the institution reports for the change; ``vastgelegd_op`` is when the broker
    recorded it, as an aware datetime in UTC.
    Raises ``ValueError`` when ``datum`` is a datetime instead of a date, or ``vastgelegd_op`` is naive
    or not in UTC (mixing them would make lead times silently wrong or make comparisons raise later).
    """

    van: AanmeldStatus | None
    naar: AanmeldStatus
    datum: date
    vastgelegd_op: datetime

    def __post_init__(self) -> None:
        if isinstance(self.datum, datetime) or not isinstance(self.datum, date):
            raise ValueError("datum moet een date zijn, geen datetime")
        if not isinstance(self.vastgelegd_op, datetime) or self.vastgelegd_op.utcoffset() != timedelta(0):
            raise ValueError("vastgelegd_op moet een datetime in UTC zijn")
