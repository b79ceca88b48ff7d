"""Issue 16 in the service layer: intake, onderwijsovereenkomst and the VO exam result are applied from
batches and CSV files with a result code per impossible record, kept in the history with the time they
were recorded, announced like a status change, and shown to exactly the parties that may see them (and
only when they accept the new elements)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from lxml import etree
from spyne.util.xml import get_object_as_xml
from sqlalchemy import func, select

from broker.db import models
from broker.domain.status import MboGangerStatus
from broker.domain.visibility import Examenresultaat, Intake
from broker.service.aanmeldingen import aanleveren_aanmeldingen
from broker.service.context import Caller
from broker.service.file_upload import aanleveren_aanmeldingen_bestand, aanleveren_leerlingen_bestand
from broker.service.leerlingen import aanleveren_leerlingen
from broker.service.opvragen import Overzicht, opvragen_status
from broker.soap import mapping
from broker.soap import models as m
from tests.service.conftest import NOW
from tests.service.test_use_cases import (
    AMSTERDAM,
    MBO_X,
    MBO_Y,
    P1,
    P2,
    P3,
    REGIO_21,
    SCHOOL_A,
    aanmelding,
    codes,
    leerling,
)

_XSD = Path(__file__).parents[2] / "xsd" / "vva-aanmelden-v1.xsd"
#: The contract as it was before issue 16 (main at f9cb0f7): a partner without the opt-in validates so.
_XSD_BEFORE = Path(__file__).parents[1] / "e2e" / "data" / "vva-aanmelden-v1-voor-procesfeiten.xsd"


def _utc(moment: datetime) -> datetime:
    # SQLite gives the stored time back without its zone; it was stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _with(record, **fields):
    return replace(record, **fields)


def _feiten(processing) -> list[tuple]:
    processing.session.flush()
    F = models.AanmeldingFeit
    return [
        (r.soort, r.datum, r.uitkomst, _utc(r.vastgelegd_op))
        for r in processing.session.scalars(select(F).order_by(F.id))
    ]


def _wijzigingen(processing) -> int:
    # the feed rows are written at commit (broker.db.commit_order)
    processing.session.commit()
    return processing.session.scalar(select(func.count()).select_from(models.Wijziging))


def test_intake_and_overeenkomst_with_a_code_per_impossible_combination(processing, call):
    mbo = call(MBO_X)
    aanleveren_aanmeldingen(processing, mbo, [aanmelding(1, P1, "99XB", "aangemeld", date(2027, 3, 1))])
    intake = {"intake_datum": date(2027, 3, 10), "intake_uitkomst": "positiefAdvies"}

    uitkomst = aanleveren_aanmeldingen(
        processing,
        mbo,
        [
            # before the registration's first reported date (1 March)
            _with(aanmelding(1, P1, "99XB", "aangemeld"), intake_datum=date(2027, 2, 28), intake_uitkomst="positiefAdvies"),
            _with(aanmelding(2, P1, "99XB", "aangemeld"), **intake),
            _with(aanmelding(3, P1, "99XB", "aangemeld"), **intake),  # a repeat: applied, nothing recorded
            # an overeenkomst without enrolment after the record
            _with(aanmelding(4, P1, "99XB", "geaccepteerd", date(2027, 4, 1)), overeenkomst_datum=date(2027, 4, 1)),
            aanmelding(5, P1, "99XB", "geaccepteerd", date(2027, 4, 1)),
            # dated before the pupil registered (1 March): nothing of it applies, not the status either
            _with(aanmelding(6, P1, "99XB", "ingeschreven", date(2027, 4, 10)), overeenkomst_datum=date(2027, 2, 27)),
            _with(aanmelding(7, P1, "99XB", "ingeschreven", date(2027, 4, 10)), overeenkomst_datum=date(2027, 4, 12)),
            # with a repeated enrolment too
            _with(aanmelding(8, P1, "99XB", "ingeschreven", date(2027, 5, 1)), overeenkomst_datum=date(2027, 2, 28)),
            # in the future
            _with(aanmelding(9, P2, "99XB", "aangemeld"), intake_datum=date(2027, 6, 1), intake_uitkomst="positiefAdvies"),
            _with(aanmelding(10, P2, "99XB", "ingeschreven"), overeenkomst_datum=date(2027, 6, 1)),
            # incomplete or unknown intake
            _with(aanmelding(11, P2, "99XB", "aangemeld"), intake_datum=date(2027, 3, 5)),
            _with(aanmelding(12, P2, "99XB", "aangemeld"), intake_datum=date(2027, 3, 5), intake_uitkomst="geslaagd"),
        ],
    )  # fmt: skip

    assert codes(uitkomst) == [
        (1, "VVA123"),
        (2, None),
        (3, None),
        (4, "VVA124"),
        (5, None),
        (6, "VVA125"),
        (7, None),
        (8, "VVA125"),
        (9, "VVA112"),
        (10, "VVA112"),
        (11, "VVA126"),
        (12, "VVA126"),
    ]
    assert _feiten(processing) == [
        ("intake", date(2027, 3, 10), "positiefAdvies", NOW),
        ("onderwijsovereenkomst", date(2027, 4, 12), None, NOW),
    ]
    row = processing.session.scalars(select(models.Aanmelding)).one()
    assert (row.status, row.status_datum) == ("ingeschreven", date(2027, 4, 10))
    assert (row.intake_datum, row.intake_uitkomst, row.overeenkomst_datum) == (
        date(2027, 3, 10),
        "positiefAdvies",
        date(2027, 4, 12),
    )


def test_a_repeat_records_nothing_and_a_new_outcome_does_also_in_the_wijzigingenfeed(
    processing, call
):
    mbo = call(MBO_X)
    aanleveren_aanmeldingen(processing, mbo, [aanmelding(1, P1, "99XB", "aangemeld", date(2027, 3, 1))])
    before = _wijzigingen(processing)
    intake = _with(
        aanmelding(1, P1, "99XB", "aangemeld"),
        intake_datum=date(2027, 3, 8),
        intake_uitkomst="nietVerschenen",
    )

    assert codes(aanleveren_aanmeldingen(processing, mbo, [intake])) == [(1, None)]
    assert _wijzigingen(processing) == before + 1  # a fact alone is a change of the pupil
    assert codes(aanleveren_aanmeldingen(processing, mbo, [intake])) == [(1, None)]
    assert _wijzigingen(processing) == before + 1  # the repeat: no change, no history
    second = _with(intake, intake_datum=date(2027, 3, 15), intake_uitkomst="negatiefAdvies")
    assert codes(aanleveren_aanmeldingen(processing, mbo, [second])) == [(1, None)]

    assert _wijzigingen(processing) == before + 2
    assert [(s, d, u) for s, d, u, _ in _feiten(processing)] == [
        ("intake", date(2027, 3, 8), "nietVerschenen"),
        ("intake", date(2027, 3, 15), "negatiefAdvies"),
    ]
    # only the status transition of the first record: the facts added none
    assert processing.session.scalar(select(func.count()).select_from(models.AanmeldingOvergang)) == 1


def test_intake_with_a_new_aanmelding_in_the_same_record(processing, call):
    record = _with(
        aanmelding(1, P1, "99XB", "aangemeld", date(2027, 4, 1)),
        intake_datum=date(2027, 4, 1),
        intake_uitkomst="positiefAdvies",
    )
    early = _with(record, volgnummer=2, bsn=P2, intake_datum=date(2027, 3, 31))

    assert codes(aanleveren_aanmeldingen(processing, call(MBO_X), [record, early])) == [
        (1, None),
        (2, "VVA123"),
    ]
    assert [s for s, *_ in _feiten(processing)] == ["intake"]


def test_examenresultaat_with_every_mutatie_without_touching_the_mbo_ganger_status(processing, call):
    school = call(SCHOOL_A)
    geslaagd = {"examen_uitkomst": "geslaagd", "examen_datum": date(2027, 5, 1)}

    uitkomst = aanleveren_leerlingen(
        processing,
        school,
        [
            _with(leerling(1, P1), **geslaagd),
            _with(leerling(2, P2), examen_uitkomst="doorstroomVo", examen_datum=date(2027, 6, 1)),  # future
            _with(leerling(3, P3), examen_uitkomst="doorstroomVo"),  # no date
            _with(leerling(4, P3), examen_uitkomst="naarHavo", examen_datum=date(2027, 5, 1)),  # unknown
            leerling(5, P3),
        ],
    )
    assert codes(uitkomst) == [(1, None), (2, "VVA112"), (3, "VVA127"), (4, "VVA127"), (5, None)]
    before = _wijzigingen(processing)
    gezakt = _with(
        leerling(1, P3, mutatie="wijzigen"), examen_uitkomst="gezakt", examen_datum=date(2027, 5, 2)
    )
    afmelden = _with(
        leerling(2, P1, mutatie="afmelden", reden="andereVervolgkeuze"),
        examen_uitkomst="geslaagd",
        examen_datum=date(2027, 5, 3),
    )
    assert codes(aanleveren_leerlingen(processing, school, [gezakt, afmelden])) == [(1, None), (2, None)]
    assert _wijzigingen(processing) == before + 2

    rows = {
        r.sleutel_hash: r for r in processing.session.scalars(select(models.Leerling))
    }  # the stored rows
    per_number = {
        processing.keyring.decrypt(r.nummer_versleuteld).waarde: (
            r.status,
            r.examen_uitkomst,
            r.examen_datum,
        )
        for r in rows.values()
    }
    # Gezakt leaves the pupil active: the school decides, not the result.
    assert per_number == {
        P1: (MboGangerStatus.AFGEMELD, "geslaagd", date(2027, 5, 3)),
        P3: (MboGangerStatus.ACTIEF, "gezakt", date(2027, 5, 2)),
    }
    M = models.LeerlingMutatie
    history = processing.session.execute(
        select(M.mutatie, M.examen_uitkomst, M.examen_datum, M.vastgelegd_op).order_by(M.id)
    ).all()
    assert [(g[0], g[1], g[2], _utc(g[3])) for g in history] == [
        ("toevoegen", "geslaagd", date(2027, 5, 1), NOW),
        ("toevoegen", None, None, NOW),
        ("wijzigen", "gezakt", date(2027, 5, 2), NOW),
        ("afmelden", "geslaagd", date(2027, 5, 3), NOW),
    ]


# --- CSV files ---------------------------------------------------------------------------------------


def test_csv_columns_for_intake_overeenkomst_and_examen(processing, call):
    mbo = (
        "bsn;brinMbo;status;datum;intakeDatum;intakeUitkomst;onderwijsovereenkomstDatum\n"
        f"{P1};99XB;ingeschreven;2027-04-01;01-04-2027;positiefAdvies;2027-04-02\n"
        f"{P2};99XB;aangemeld;2027-03-01;2027-03-05;wellicht;\n"
        f"{P3};99XB;aangemeld;2027-03-01;;;gisteren\n"
    )
    outcome = aanleveren_aanmeldingen_bestand(processing, call(MBO_X), mbo.encode())
    assert codes(outcome) == [(2, None), (3, "VVA126"), (4, "VVA122")]
    assert "positiefAdvies, negatiefAdvies" in outcome.outcomes[1].melding.tekst_nl
    assert [(s, d, u) for s, d, u, _ in _feiten(processing)] == [
        ("intake", date(2027, 4, 1), "positiefAdvies"),
        ("onderwijsovereenkomst", date(2027, 4, 2), None),
    ]

    vo = (
        "bsn;brinVo;postcode;woongemeente;mutatie;examenUitkomst;examenDatum\n"
        f"{P1};99XA;1011AB;0363;toevoegen;vertrekZonderDiploma;2027-05-01\n"
        f"{P2};99XA;1011AB;0363;toevoegen;cum laude;2027-05-01\n"
        f"{P3};99XA;1011AB;0363;toevoegen;geslaagd;1 mei\n"
    )
    outcome = aanleveren_leerlingen_bestand(processing, call(SCHOOL_A), vo.encode())
    assert codes(outcome) == [(2, None), (3, "VVA127"), (4, "VVA122")]
    assert "geslaagd, gezakt, doorstroomVo of vertrekZonderDiploma" in outcome.outcomes[1].melding.tekst_nl
    assert "geslaagd, gezakt, doorstroomVo or vertrekZonderDiploma" in outcome.outcomes[1].melding.tekst_en
    row = processing.session.scalars(select(models.Leerling)).one()
    assert (row.examen_uitkomst, row.examen_datum) == ("vertrekZonderDiploma", date(2027, 5, 1))


# --- who sees what ---------------------------------------------------------------------------------------


def _scenario(processing, call) -> None:
    """P1 of school A, living in Amsterdam, with an exam result, enrolled at X after a positive intake
    and registered at Y with a negative one."""
    school = call(SCHOOL_A)
    geslaagd = _with(leerling(1, P1), examen_uitkomst="geslaagd", examen_datum=date(2027, 5, 1))
    assert codes(aanleveren_leerlingen(processing, school, [geslaagd])) == [(1, None)]
    at_x = _with(
        aanmelding(1, P1, "99XB", "ingeschreven", date(2027, 4, 1)),
        intake_datum=date(2027, 4, 1),
        intake_uitkomst="positiefAdvies",
        overeenkomst_datum=date(2027, 4, 3),
    )
    at_y = _with(
        aanmelding(1, P1, "99XE", "aangemeld", date(2027, 3, 1)),
        intake_datum=date(2027, 3, 20),
        intake_uitkomst="negatiefAdvies",
    )
    assert codes(aanleveren_aanmeldingen(processing, call(MBO_X), [at_x])) == [(1, None)]
    assert codes(aanleveren_aanmeldingen(processing, call(MBO_Y), [at_y])) == [(1, None)]


def _viewed(processing, call_: Caller) -> Overzicht:
    [overview] = opvragen_status(processing, call_, [(P1, None)])
    return overview


def _procesfeiten(overview: Overzicht) -> tuple:
    beeld = overview.beeld
    return (
        {a.brin_mbo: (a.intake, a.overeenkomst_datum) for a in beeld.aanmeldingen},
        beeld.examenresultaat,
    )


X_FEITEN = (Intake(date(2027, 4, 1), "positiefAdvies"), date(2027, 4, 3))
Y_FEITEN = (Intake(date(2027, 3, 20), "negatiefAdvies"), None)
EXAMEN = Examenresultaat("geslaagd", date(2027, 5, 1))


def test_visibility_per_kind_of_partij(processing, call):
    _scenario(processing, call)
    regio = call(REGIO_21)
    # REGIO_21 serves MBO X; as a system serving school A too it also gets the exam result.
    regio_for_a = replace(regio, partij=replace(regio.partij, brins=regio.partij.brins | {"99XA"}))

    assert _procesfeiten(_viewed(processing, call(SCHOOL_A))) == (
        {"99XB": X_FEITEN, "99XE": Y_FEITEN},
        EXAMEN,
    )
    assert _procesfeiten(_viewed(processing, call(AMSTERDAM))) == (
        {"99XB": X_FEITEN, "99XE": Y_FEITEN},
        EXAMEN,
    )
    # MBO institutions: their own registration's facts, never the exam result nor the other's intake.
    assert _procesfeiten(_viewed(processing, call(MBO_X))) == ({"99XB": X_FEITEN}, None)
    assert _procesfeiten(_viewed(processing, call(MBO_Y))) == ({"99XE": Y_FEITEN}, None)
    # A regional system: the registrations of its region's pupils; the exam result only for a school it serves.
    assert _procesfeiten(_viewed(processing, regio)) == ({"99XB": X_FEITEN, "99XE": Y_FEITEN}, None)
    assert _procesfeiten(_viewed(processing, regio_for_a)) == ({"99XB": X_FEITEN, "99XE": Y_FEITEN}, EXAMEN)
    # the RMC function of a gemeente sees the exam result of its region's residents
    rmc = call(AMSTERDAM)
    rmc = replace(
        rmc, partij=replace(rmc.partij, gemeentecodes=frozenset({"0599"}), rmc_regios=frozenset({"21"}))
    )
    assert _procesfeiten(_viewed(processing, rmc))[1] == EXAMEN  # fmt: skip


def _as_push(overview: Overzicht) -> etree._Element:
    message = m.OntvangenWijziging(wijzigingId=1, tijdstip=NOW, leerling=mapping.overzicht_out(overview))
    return get_object_as_xml(message, m.OntvangenWijziging)


def test_without_opt_in_no_procesfeiten_and_valid_by_the_old_schema(processing, call):
    _scenario(processing, call)
    new, old = etree.XMLSchema(etree.parse(_XSD)), etree.XMLSchema(etree.parse(_XSD_BEFORE))

    for oin in (SCHOOL_A, MBO_X, AMSTERDAM, REGIO_21):
        with_ = call(oin)
        without = replace(with_, partij=replace(with_.partij, procesfeiten=False))
        bare = _viewed(processing, without)
        assert bare.beeld.examenresultaat is None, oin
        assert all(a.intake is None and a.overeenkomst_datum is None for a in bare.beeld.aanmeldingen), oin
        # the rest of the view is unchanged
        complete = _viewed(processing, with_)
        assert [(a.brin_mbo, a.status) for a in bare.beeld.aanmeldingen] == [
            (a.brin_mbo, a.status) for a in complete.beeld.aanmeldingen
        ]
        assert old.validate(_as_push(bare)), (oin, old.error_log)
        assert new.validate(_as_push(complete)), (oin, new.error_log)
        # with the facts, the old schema refuses the push: the check above can fail
        assert not old.validate(_as_push(complete)), oin

    push = _as_push(_viewed(processing, call(SCHOOL_A)))
    vv = "{urn:nl:vva:aanmelden:v1}"
    at_x = push.find(f"{vv}leerling/{vv}aanmelding")
    assert [etree.QName(e).localname for e in at_x] == [
        *("brinMbo", "status", "datum", "intake", "onderwijsovereenkomstDatum")
    ]
    assert (at_x.findtext(f"{vv}intake/{vv}datum"), at_x.findtext(f"{vv}intake/{vv}uitkomst")) == (
        "2027-04-01",
        "positiefAdvies",
    )
    assert at_x.findtext(f"{vv}onderwijsovereenkomstDatum") == "2027-04-03"
    examen = push.find(f"{vv}leerling/{vv}examenresultaat")
    assert [(etree.QName(e).localname, e.text) for e in examen] == [
        ("uitkomst", "geslaagd"),
        ("datum", "2027-05-01"),
    ]


def test_a_late_reported_inschrijving_with_earlier_intake_and_overeenkomst_is_not_lost(
    processing, call
):
    """An institution that reports a registration for the first time as ingeschreven (late) never
    said when the pupil registered: its earlier intake and overeenkomst are not "before the
    registration", and refusing them would refuse the enrolment with them."""
    late = _with(
        aanmelding(1, P1, "99XB", "ingeschreven", date(2027, 5, 1)),
        intake_datum=date(2027, 3, 15),
        intake_uitkomst="positiefAdvies",
        overeenkomst_datum=date(2027, 4, 20),  # signed before the enrolment's date: normal
    )

    assert codes(aanleveren_aanmeldingen(processing, call(MBO_X), [late])) == [(1, None)]
    row = processing.session.scalars(select(models.Aanmelding)).one()
    assert (row.status, row.intake_datum, row.overeenkomst_datum) == (
        "ingeschreven",
        date(2027, 3, 15),
        date(2027, 4, 20),
    )
