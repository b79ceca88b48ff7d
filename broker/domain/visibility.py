"""Who may see which pupil, and which part of the pupil's data (AVG art. 5 lid 1 sub c, data minimisation).

Every rule here is deny-by-default: a party sees a pupil only through a BRIN, gemeente or RMC region it
is registered for, and then only the fields its role needs (README.md, flows a–d):

* a VO school sees its own pupils: its BRIN, the mbo-ganger status and every registration (flow a);
* an MBO institution sees only its own registrations, plus whether the pupil is actively registered
  elsewhere, never where (flow b);
* a gemeente sees its residents (flow c); a gemeente registered with an RMC region is that region's RMC
  function (the contact gemeente that coordinates the region) and sees the residents of every gemeente
  of the region, each with its woongemeente;
* a regional system sees the pupils of its RMC region(s), of the VO schools it serves and of the MBO
  institutions it serves (flow d);
* a supplier (leverancier) sees nothing as itself; it only acts under a mandate for another party.

Contact details (issue 15, brief: "contactgegevens van de latende vo-school en ontvangende
mbo-instelling") are the institution's, never a person's, and follow the same rules: which institution's
contact details a party is shown is part of its view (``LeerlingBeeld.contacten``, see ``_contacten``).

Process facts (issue 16): the intake and the onderwijsovereenkomst belong to a registration and travel
inside it (``AanmeldingFeit``), so exactly the parties that see the registration see them. The VO exam
result (``Examenresultaat``) is about the pupil's school career, not about a registration: the VO school
that reported it sees it, and so do the gemeente (also as RMC function) that follows the pupil for the
leerplicht/RMC task and a regional system for the pupils of the VO schools it serves (it passes on what
those schools deliver). MBO institutions never see it: whether a pupil passed is not needed to handle a
registration (the diploma itself reaches the institution through DUO at enrolment), so data minimisation
keeps it from them; a regional system that sees a pupil only through its institutions gets what they
get. Both kinds reach only parties whose software accepts the elements (``Partij.procesfeiten``).

The dataclasses check that codes are in canonical form on construction: a "363" next to a "0363" would
not raise anywhere, it would just silently hide a pupil from the gemeente responsible for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from broker.domain.identifiers import parse_brin, parse_crebo, parse_gemeentecode, parse_oin
from broker.domain.status import (
    ACTIEF_AANGEMELD,
    AanmeldStatus,
    ExamenUitkomst,
    IntakeUitkomst,
    MboGangerStatus,
)
from broker.errors import BrokerError

_RMC_PATTERN = re.compile(r"\A[0-9]{1,2}\Z")


class NotVisible(BrokerError):
    """The party may not see this pupil. The message names neither the pupil nor the party."""


class PartijSoort(StrEnum):
    """Role of a connected party."""

    VO_SCHOOL = "vo-school"
    MBO_INSTELLING = "mbo-instelling"
    GEMEENTE = "gemeente"
    REGIONAAL_SYSTEEM = "regionaal-systeem"
    LEVERANCIER = "leverancier"
    #: The facility itself, as the sender of pushes to a receiver; it sees nothing through these rules.
    VOORZIENING = "voorziening"


def normalise_rmc(code: str | int) -> str:
    """Return an RMC region code without leading zeros, so "07" and "7" compare equal.

    Input: str of 1 or 2 ASCII digits (surrounding whitespace removed) or a non-negative int.
    Output: str, e.g. "7" or "36". Raises ``ValueError`` for anything else and for 0.
    Source rule: DUO open data column "RMC-REGIO CODE" (1..40 since the 2021 split); the upper bound is
    not fixed here because the regions are redrawn now and then.
    """
    if isinstance(code, bool):
        raise ValueError("RMC-regiocode moet 1 of 2 cijfers zijn")
    text = str(code) if isinstance(code, int) else code
    # A regex rather than int() alone: int() also accepts "+7", "0_7" and non-ASCII digits.
    if not isinstance(text, str) or not _RMC_PATTERN.match(text.strip()) or int(text) == 0:
        raise ValueError("RMC-regiocode moet 1 of 2 cijfers zijn en niet 0")
    return str(int(text))


def _require_canonical(value: str, parser: Callable[[str], str], field: str) -> None:
    try:
        canonical = parser(value) == value
    except ValueError:
        canonical = False
    if not canonical:
        raise ValueError(f"{field} is geen geldige code in canonieke vorm")


def _code_set(values: Iterable[str], parser: Callable[[str], str], field: str) -> frozenset[str]:
    # A bare str is iterable too; frozenset("25BE") would silently become four one-letter codes.
    if isinstance(values, str):
        raise TypeError(f"{field} moet een verzameling codes zijn, geen losse string")
    result = frozenset(values)
    for value in result:
        _require_canonical(value, parser, field)
    return result


@dataclass(frozen=True)
class Partij:
    """A connected party and the codes it acts for.

    ``brins`` are BRIN4 codes ("25BE"), ``gemeentecodes`` 4-digit CBS codes ("0363"), ``rmc_regios``
    RMC region codes stored as given ("07" or "7"; compared through ``normalise_rmc``). Any iterable is
    accepted and stored as a frozenset. ``contactgegevens``: the party's software accepts the optional
    ``contactgegevens`` element (registered by the operator); without it its view has no contact details.
    Raises ``InvalidOin`` for an invalid OIN, ``ValueError`` for an unknown soort or a code that is
    invalid or not canonical, ``TypeError`` when a code set is a bare str.
    """

    oin: str
    soort: PartijSoort
    brins: frozenset[str] = frozenset()
    gemeentecodes: frozenset[str] = frozenset()
    rmc_regios: frozenset[str] = frozenset()
    contactgegevens: bool = False
    #: The party's software accepts the optional intake, onderwijsovereenkomstDatum and examenresultaat
    #: elements (issue 16); without it its view has none of them.
    procesfeiten: bool = False
    # Derived once, so that checking thousands of pupils does not re-normalise per pupil.
    _rmc_normalised: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parse_oin(self.oin)
        set_ = object.__setattr__  # the dataclass is frozen; normalising inputs here is the exception
        set_(self, "soort", PartijSoort(self.soort))
        set_(self, "brins", _code_set(self.brins, parse_brin, "brins"))
        set_(self, "gemeentecodes", _code_set(self.gemeentecodes, parse_gemeentecode, "gemeentecodes"))
        if isinstance(self.rmc_regios, str):
            raise TypeError("rmc_regios moet een verzameling codes zijn, geen losse string")
        set_(self, "rmc_regios", frozenset(self.rmc_regios))
        if not isinstance(self.contactgegevens, bool):
            raise TypeError("contactgegevens moet True of False zijn")
        if not isinstance(self.procesfeiten, bool):
            raise TypeError("procesfeiten moet True of False zijn")
        set_(self, "_rmc_normalised", frozenset(normalise_rmc(code) for code in self.rmc_regios))


def _require_date(value: object, field: str) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{field} moet een date zijn, geen datetime")


@dataclass(frozen=True)
class Intake:
    """The last reported intake of a registration (issue 16): its date and outcome."""

    datum: date
    uitkomst: IntakeUitkomst

    def __post_init__(self) -> None:
        _require_date(self.datum, "intake.datum")
        object.__setattr__(self, "uitkomst", IntakeUitkomst(self.uitkomst))


@dataclass(frozen=True)
class Examenresultaat:
    """The VO outcome of the school year as the pupil's school last reported it (issue 16)."""

    uitkomst: ExamenUitkomst
    datum: date

    def __post_init__(self) -> None:
        _require_date(self.datum, "examenresultaat.datum")
        object.__setattr__(self, "uitkomst", ExamenUitkomst(self.uitkomst))


@dataclass(frozen=True)
class AanmeldingFeit:
    """One registration of the pupil at an MBO institution: its BRIN4, current status and status date,
    the crebo of the programme when the institution gave one, and the last reported intake and
    onderwijsovereenkomst date (issue 16) when it reported them.

    Raises ``ValueError`` when ``brin_mbo`` is not a canonical BRIN4, ``status`` is not an AanmeldStatus
    value, ``datum`` or ``overeenkomst_datum`` is not a date (a datetime is refused: it cannot be
    compared with dates), or ``crebo`` is not 5 digits.
    """

    brin_mbo: str
    status: AanmeldStatus
    datum: date
    crebo: str | None = None
    intake: Intake | None = None
    overeenkomst_datum: date | None = None

    def __post_init__(self) -> None:
        _require_canonical(self.brin_mbo, parse_brin, "brin_mbo")
        _optional_canonical(self.crebo, parse_crebo, "crebo")
        object.__setattr__(self, "status", AanmeldStatus(self.status))
        _require_date(self.datum, "datum")
        if self.overeenkomst_datum is not None:
            _require_date(self.overeenkomst_datum, "overeenkomst_datum")
        if self.intake is not None and not isinstance(self.intake, Intake):
            raise ValueError("intake moet een Intake zijn")


def _optional_canonical(value: str | None, parser: Callable[[str], str], field: str) -> None:
    if value is not None:
        _require_canonical(value, parser, field)


def _optional_rmc(value: str | None) -> None:
    if value is not None:
        normalise_rmc(value)


@dataclass(frozen=True)
class LeerlingFeiten:
    """Everything the broker knows about one pupil in the current cycle, as input for visibility rules.

    ``brin_vo``: BRIN4 of the delivering VO school (None when no school delivered the pupil).
    ``vo_rmc_regio``: RMC region of that school's vestiging. ``gemeentecode``: 4-digit code of the
    residence; ``woon_rmc_regio``: RMC region of that gemeente. ``mbo_ganger_status``: None when no VO
    school delivered the pupil. ``aanmeldingen``: any iterable of AanmeldingFeit, stored as a tuple.
    ``examenresultaat``: the exam result the school reported (issue 16), None when none.
    Raises ``ValueError`` when a code is invalid or not canonical or a status is unknown.
    """

    brin_vo: str | None
    vo_rmc_regio: str | None
    gemeentecode: str | None
    woon_rmc_regio: str | None
    mbo_ganger_status: MboGangerStatus | None
    aanmeldingen: tuple[AanmeldingFeit, ...] = ()
    examenresultaat: Examenresultaat | None = None

    def __post_init__(self) -> None:
        _optional_canonical(self.brin_vo, parse_brin, "brin_vo")
        _optional_canonical(self.gemeentecode, parse_gemeentecode, "gemeentecode")
        _optional_rmc(self.vo_rmc_regio)
        _optional_rmc(self.woon_rmc_regio)
        if self.mbo_ganger_status is not None:
            object.__setattr__(self, "mbo_ganger_status", MboGangerStatus(self.mbo_ganger_status))
        aanmeldingen = tuple(self.aanmeldingen)
        if not all(isinstance(a, AanmeldingFeit) for a in aanmeldingen):
            raise ValueError("aanmeldingen moet uit AanmeldingFeit-objecten bestaan")
        object.__setattr__(self, "aanmeldingen", aanmeldingen)


# --- contact details (issue 15, item 5) ------------------------------------------------------------------


class ContactRol(StrEnum):
    """Why an institution's contact details are in a view: the pupil's school, or an institution the
    pupil registered at (the XSD enumeration ``ContactRol``)."""

    LATENDE_VO_SCHOOL = "latendeVoSchool"
    ONTVANGENDE_MBO_INSTELLING = "ontvangendeMboInstelling"


@dataclass(frozen=True)
class ContactReference:
    """Which institution's contact details a view carries: ``brin`` says whose (the service looks the
    details up), ``show_brin`` whether the party may be told the BRIN itself. An MBO institution gets the
    school's contact details to reach it, not its BRIN: it never sees the school's BRIN (data
    minimisation; the contact details are name, phone, internet address and e-mail).
    Raises ``ValueError`` when ``brin`` is not a canonical BRIN4 or ``rol`` unknown.
    """

    rol: ContactRol
    brin: str
    show_brin: bool

    def __post_init__(self) -> None:
        _require_canonical(self.brin, parse_brin, "brin")
        object.__setattr__(self, "rol", ContactRol(self.rol))

    def __repr__(self) -> str:
        # A repr ends up in logs and assertion messages: a BRIN the party may not see stays out of it.
        brin = self.brin if self.show_brin else "<niet getoond>"
        return f"ContactVerwijzing(rol={self.rol.value!r}, brin={brin!r}, brin_tonen={self.show_brin})"


# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeerlingBeeld:
    """What one party is shown about one pupil; a field the party may not see is None.

    ``elders_aangemeld`` is only set for an MBO institution: True when the pupil has an active
    registration at an institution outside its BRINs. ``contacten``: the institutions whose contact
    details the party is shown with the pupil (``ContactReference``), school first, then the MBO
    institutions in the order of their first registration. ``examenresultaat``: the pupil's VO exam
    result when the party may see it (issue 16).
    """

    brin_vo: str | None
    gemeentecode: str | None
    mbo_ganger_status: MboGangerStatus | None
    aanmeldingen: tuple[AanmeldingFeit, ...]
    elders_aangemeld: bool | None
    contacten: tuple[ContactReference, ...] = ()
    examenresultaat: Examenresultaat | None = None


def _in_regio(code: str | None, partij: Partij) -> bool:
    return code is not None and normalise_rmc(code) in partij._rmc_normalised


def _has_aanmelding_at(partij: Partij, feiten: LeerlingFeiten) -> bool:
    return any(a.brin_mbo in partij.brins for a in feiten.aanmeldingen)


def may_see(partij: Partij, feiten: LeerlingFeiten) -> bool:
    """Decide whether ``partij`` may see the pupil described by ``feiten`` at all.

    Input: Partij, LeerlingFeiten. Output: bool; never raises.
    VO school: the pupil's brin_vo is one of its BRINs. MBO institution: the pupil has a registration (any
    status) at one of its BRINs. Gemeente: the pupil lives in one of its gemeenten, or (RMC function) the
    residence's RMC region is one of its regions; the school's region does not count, the RMC function
    is about residents. Regional system: the school's or the residence's RMC region is one of its
    regions, the pupil's VO school is one of the BRINs it serves, or the pupil has a registration at one
    of its BRINs. Leverancier and any unknown role: never.
    Source rule: WEB art. 8.0.3 and the Regeling gegevensverstrekking bij overstap naar het mbo (who
    receives what); AVG art. 5 lid 1 sub c (data minimisation).
    """
    match partij.soort:
        case PartijSoort.VO_SCHOOL:
            return feiten.brin_vo is not None and feiten.brin_vo in partij.brins
        case PartijSoort.MBO_INSTELLING:
            return _has_aanmelding_at(partij, feiten)
        case PartijSoort.GEMEENTE:
            own_resident = feiten.gemeentecode is not None and feiten.gemeentecode in partij.gemeentecodes
            return own_resident or _in_regio(feiten.woon_rmc_regio, partij)
        case PartijSoort.REGIONAAL_SYSTEEM:
            return _in_own_regio(partij, feiten) or _has_aanmelding_at(partij, feiten)
        case _:
            # A leverancier acts only under a mandate, as the mandating party; as itself it sees nothing.
            return False


def beeld_for(partij: Partij, feiten: LeerlingFeiten) -> LeerlingBeeld:
    """Return the part of the pupil's data that ``partij`` may see.

    Input: Partij, LeerlingFeiten. Output: LeerlingBeeld.
    VO school: brin_vo, mbo_ganger_status and all registrations. MBO institution: only its own
    registrations, plus elders_aangemeld; never the school, the residence or another institution's BRIN.
    Gemeente (also as RMC function, for every resident of its region): brin_vo, gemeentecode,
    mbo_ganger_status and all registrations; regional system the same without the gemeentecode (flow d
    carries BRIN VO, BRIN MBO, BSN and status only) for pupils of its region or of a VO school it serves,
    and for a pupil it sees only through its own institutions what an institution sees.
    Contact details (``contacten``): a VO school gets those of every MBO institution in its view, an MBO
    institution those of the pupil's school (without its BRIN), a gemeente (also as RMC function) both;
    a regional system none for the pupils of its region (flow d), and what an institution gets for a
    pupil it sees through one. A party not registered for contact details (``partij.contactgegevens``
    False) gets none at all.
    Process facts (issue 16): intake and onderwijsovereenkomst stay inside the registrations the party
    sees; the exam result (``examenresultaat``) goes to the pupil's VO school, a gemeente (also as RMC
    function) and a regional system for a pupil of a VO school it serves, never to an MBO institution
    (nor to a regional system seeing the pupil only through one). A party not registered for process
    facts (``partij.procesfeiten`` False) gets none of them.
    Raises ``NotVisible`` when ``may_see`` is False.
    Source rule: WEB art. 8.0.3 (flows a-d of the VVA); AVG art. 5 lid 1 sub c.
    """
    beeld = _beeld(partij, feiten)
    # The one place for the opt-ins, so answers, pushes and routing agree: software validating against
    # the XSD as it was before contact details or process facts would refuse those elements
    # (xsd/README.md), and a change that only alters them must not push an unchanged view to a party
    # that never sees them.
    if not partij.contactgegevens:
        beeld = replace(beeld, contacten=())
    if not partij.procesfeiten:
        beeld = replace(beeld, aanmeldingen=_without_procesfeiten(beeld.aanmeldingen), examenresultaat=None)
    return beeld


def _examen_visible(partij: Partij, feiten: LeerlingFeiten) -> bool:
    """Whether ``partij`` (which sees the pupil with the school's side of the view) may see the exam
    result: the VO school and a gemeente (also as RMC function) always; a regional system only for a
    pupil of a VO school it serves (it delivers for that school), not for one it sees through the
    region alone."""
    if partij.soort is PartijSoort.REGIONAAL_SYSTEEM:
        return feiten.brin_vo is not None and feiten.brin_vo in partij.brins
    return partij.soort in (PartijSoort.VO_SCHOOL, PartijSoort.GEMEENTE)


def _without_procesfeiten(aanmeldingen: tuple[AanmeldingFeit, ...]) -> tuple[AanmeldingFeit, ...]:
    return tuple(replace(a, intake=None, overeenkomst_datum=None) for a in aanmeldingen)


def _beeld(partij: Partij, feiten: LeerlingFeiten) -> LeerlingBeeld:
    if not may_see(partij, feiten):
        raise NotVisible("deze partij mag deze leerling niet zien")
    match partij.soort:
        case PartijSoort.VO_SCHOOL:
            return LeerlingBeeld(
                brin_vo=feiten.brin_vo,
                gemeentecode=None,
                mbo_ganger_status=feiten.mbo_ganger_status,
                aanmeldingen=_without_crebo(feiten.aanmeldingen),
                elders_aangemeld=None,
                contacten=_contacten(feiten, school=False, instellingen=True),
                examenresultaat=feiten.examenresultaat,
            )
        case PartijSoort.MBO_INSTELLING:
            return _instellingsbeeld(partij, feiten)
        case PartijSoort.REGIONAAL_SYSTEEM if not _in_own_regio(partij, feiten):
            # Seen only through registrations at its own institutions: it acts for them there and
            # gets what they get, not the pupil's school or the other institutions (docs/architecture.md, "Parties and what they may see").
            return _instellingsbeeld(partij, feiten)
        case PartijSoort.GEMEENTE | PartijSoort.REGIONAAL_SYSTEEM:
            # Flow d exchanges BRIN VO, BRIN MBO, BSN and status only (the brief's flow d): the residence
            # is the gemeente's business, not the regional system's.
            return LeerlingBeeld(
                brin_vo=feiten.brin_vo,
                gemeentecode=feiten.gemeentecode if partij.soort is PartijSoort.GEMEENTE else None,
                mbo_ganger_status=feiten.mbo_ganger_status,
                aanmeldingen=_without_crebo(feiten.aanmeldingen),
                elders_aangemeld=None,
                # Flow d has no contact details; the gemeente gets both sides (brief, flow c).
                contacten=_contacten(feiten, school=True, instellingen=True)
                if partij.soort is PartijSoort.GEMEENTE
                else (),
                examenresultaat=feiten.examenresultaat if _examen_visible(partij, feiten) else None,
            )
    # Unreachable while may_see denies every other role; kept so a new role fails closed.
    raise NotVisible("deze partij mag deze leerling niet zien")


def _instellingsbeeld(partij: Partij, feiten: LeerlingFeiten) -> LeerlingBeeld:
    # Its own registrations in full, crebo included (it delivered them), and only yes/no elsewhere.
    own = tuple(a for a in feiten.aanmeldingen if a.brin_mbo in partij.brins)
    elsewhere = any(a.brin_mbo not in partij.brins and a.status in ACTIEF_AANGEMELD for a in feiten.aanmeldingen)
    # The school's contact details so the institution can reach it, never its BRIN nor any other
    # institution's details: elsewhere stays yes/no.
    school = (
        (ContactReference(ContactRol.LATENDE_VO_SCHOOL, feiten.brin_vo, show_brin=False),)
        if feiten.brin_vo is not None
        else ()
    )
    return LeerlingBeeld(
        brin_vo=None,
        gemeentecode=None,
        mbo_ganger_status=None,
        aanmeldingen=own,
        elders_aangemeld=elsewhere,
        contacten=school,
    )


def _contacten(feiten: LeerlingFeiten, *, school: bool, instellingen: bool) -> tuple[ContactReference, ...]:
    """References to the school's and/or every registered institution's contact details, each once; only
    for parties that see those BRINs anyway (so ``show_brin``)."""
    uitkomst: list[ContactReference] = []
    if school and feiten.brin_vo is not None:
        uitkomst.append(ContactReference(ContactRol.LATENDE_VO_SCHOOL, feiten.brin_vo, show_brin=True))
    if instellingen:
        for brin in dict.fromkeys(a.brin_mbo for a in feiten.aanmeldingen):
            uitkomst.append(ContactReference(ContactRol.ONTVANGENDE_MBO_INSTELLING, brin, show_brin=True))
    return tuple(uitkomst)


def _in_own_regio(partij: Partij, feiten: LeerlingFeiten) -> bool:
    # A VO school the regional system serves counts as its own region (flow d: it passes on that
    # school's start population), also when the school lies outside its RMC regions.
    served_school = feiten.brin_vo is not None and feiten.brin_vo in partij.brins
    return (
        served_school or _in_regio(feiten.vo_rmc_regio, partij) or _in_regio(feiten.woon_rmc_regio, partij)
    )


def _without_crebo(aanmeldingen: tuple[AanmeldingFeit, ...]) -> tuple[AanmeldingFeit, ...]:
    # The programme is for regional policy information, not for following one pupil (the brief's data set).
    return tuple(replace(a, crebo=None) for a in aanmeldingen)


def is_aangemeld(feiten: LeerlingFeiten) -> bool:
    """Return True when the pupil has at least one registration in ``ACTIEF_AANGEMELD``.

    Input: LeerlingFeiten. Output: bool. Source rule: WEB art. 8.0.3 ("aangemeld" per the VVA status set).
    """
    return any(a.status in ACTIEF_AANGEMELD for a in feiten.aanmeldingen)


def is_ingeschreven(feiten: LeerlingFeiten) -> bool:
    """Return True when the pupil has at least one registration with status ingeschreven.

    Input: LeerlingFeiten. Output: bool. Source rule: WEB art. 8.0.3 (status "ingeschreven").
    """
    return any(a.status is AanmeldStatus.INGESCHREVEN for a in feiten.aanmeldingen)
