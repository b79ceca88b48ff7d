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
from tests.service.conftest import NU
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
_XSD_VOOR = Path(__file__).parents[1] / "e2e" / "data" / "vva-aanmelden-v1-voor-procesfeiten.xsd"


def _utc(moment: datetime) -> datetime:
    # SQLite gives the stored time back without its zone; it was stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _met(record, **fields):
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


def test_intake_en_overeenkomst_met_een_code_per_onmogelijke_combinatie(processing, call):
    mbo = call(MBO_X)
    aanleveren_aanmeldingen(processing, mbo, [aanmelding(1, P1, "99XB", "aangemeld", date(2027, 3, 1))])
    intake = {"intake_datum": date(2027, 3, 10), "intake_uitkomst": "positiefAdvies"}

    uitkomst = aanleveren_aanmeldingen(
        processing,
        mbo,
        [
            # before the registration's first reported date (1 March)
            _met(aanmelding(1, P1, "99XB", "aangemeld"), intake_datum=date(2027, 2, 28), intake_uitkomst="positiefAdvies"),
            _met(aanmelding(2, P1, "99XB", "aangemeld"), **intake),
            _met(aanmelding(3, P1, "99XB", "aangemeld"), **intake),  # a repeat: applied, nothing recorded
            # an overeenkomst without enrolment after the record
            _met(aanmelding(4, P1, "99XB", "geaccepteerd", date(2027, 4, 1)), overeenkomst_datum=date(2027, 4, 1)),
            aanmelding(5, P1, "99XB", "geaccepteerd", date(2027, 4, 1)),
            # dated before the pupil registered (1 March): nothing of it applies, not the status either
            _met(aanmelding(6, P1, "99XB", "ingeschreven", date(2027, 4, 10)), overeenkomst_datum=date(2027, 2, 27)),
            _met(aanmelding(7, P1, "99XB", "ingeschreven", date(2027, 4, 10)), overeenkomst_datum=date(2027, 4, 12)),
            # with a repeated enrolment too
            _met(aanmelding(8, P1, "99XB", "ingeschreven", date(2027, 5, 1)), overeenkomst_datum=date(2027, 2, 28)),
            # in the future
            _met(aanmelding(9, P2, "99XB", "aangemeld"), intake_datum=date(2027, 6, 1), intake_uitkomst="positiefAdvies"),
            _met(aanmelding(10, P2, "99XB", "ingeschreven"), overeenkomst_datum=date(2027, 6, 1)),
            # incomplete or unknown intake
            _met(aanmelding(11, P2, "99XB", "aangemeld"), intake_datum=date(2027, 3, 5)),
            _met(aanmelding(12, P2, "99XB", "aangemeld"), intake_datum=date(2027, 3, 5), intake_uitkomst="geslaagd"),
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
        ("intake", date(2027, 3, 10), "positiefAdvies", NU),
        ("onderwijsovereenkomst", date(2027, 4, 12), None, NU),
    ]
    row = processing.session.scalars(select(models.Aanmelding)).one()
    assert (row.status, row.status_datum) == ("ingeschreven", date(2027, 4, 10))
    assert (row.intake_datum, row.intake_uitkomst, row.overeenkomst_datum) == (
        date(2027, 3, 10),
        "positiefAdvies",
        date(2027, 4, 12),
    )


def test_een_herhaling_legt_niets_vast_en_een_nieuwe_uitkomst_wel_ook_in_de_wijzigingenfeed(
    processing, call
):
    mbo = call(MBO_X)
    aanleveren_aanmeldingen(processing, mbo, [aanmelding(1, P1, "99XB", "aangemeld", date(2027, 3, 1))])
    voor = _wijzigingen(processing)
    intake = _met(
        aanmelding(1, P1, "99XB", "aangemeld"),
        intake_datum=date(2027, 3, 8),
        intake_uitkomst="nietVerschenen",
    )

    assert codes(aanleveren_aanmeldingen(processing, mbo, [intake])) == [(1, None)]
    assert _wijzigingen(processing) == voor + 1  # a fact alone is a change of the pupil
    assert codes(aanleveren_aanmeldingen(processing, mbo, [intake])) == [(1, None)]
    assert _wijzigingen(processing) == voor + 1  # the repeat: no change, no history
    second = _met(intake, intake_datum=date(2027, 3, 15), intake_uitkomst="negatiefAdvies")
    assert codes(aanleveren_aanmeldingen(processing, mbo, [second])) == [(1, None)]

    assert _wijzigingen(processing) == voor + 2
    assert [(s, d, u) for s, d, u, _ in _feiten(processing)] == [
        ("intake", date(2027, 3, 8), "nietVerschenen"),
        ("intake", date(2027, 3, 15), "negatiefAdvies"),
    ]
    # only the status transition of the first record: the facts added none
    assert processing.session.scalar(select(func.count()).select_from(models.AanmeldingOvergang)) == 1


def test_intake_bij_een_nieuwe_aanmelding_in_dezelfde_regel(processing, call):
    record = _met(
        aanmelding(1, P1, "99XB", "aangemeld", date(2027, 4, 1)),
        intake_datum=date(2027, 4, 1),
        intake_uitkomst="positiefAdvies",
    )
    vroeg = _met(record, volgnummer=2, bsn=P2, intake_datum=date(2027, 3, 31))

    assert codes(aanleveren_aanmeldingen(processing, call(MBO_X), [record, vroeg])) == [
        (1, None),
        (2, "VVA123"),
    ]
    assert [s for s, *_ in _feiten(processing)] == ["intake"]


def test_examenresultaat_bij_elke_mutatie_zonder_de_mbo_ganger_status_te_raken(processing, call):
    school = call(SCHOOL_A)
    geslaagd = {"examen_uitkomst": "geslaagd", "examen_datum": date(2027, 5, 1)}

    uitkomst = aanleveren_leerlingen(
        processing,
        school,
        [
            _met(leerling(1, P1), **geslaagd),
            _met(leerling(2, P2), examen_uitkomst="doorstroomVo", examen_datum=date(2027, 6, 1)),  # future
            _met(leerling(3, P3), examen_uitkomst="doorstroomVo"),  # no date
            _met(leerling(4, P3), examen_uitkomst="naarHavo", examen_datum=date(2027, 5, 1)),  # unknown
            leerling(5, P3),
        ],
    )
    assert codes(uitkomst) == [(1, None), (2, "VVA112"), (3, "VVA127"), (4, "VVA127"), (5, None)]
    voor = _wijzigingen(processing)
    gezakt = _met(
        leerling(1, P3, mutatie="wijzigen"), examen_uitkomst="gezakt", examen_datum=date(2027, 5, 2)
    )
    afmelden = _met(
        leerling(2, P1, mutatie="afmelden", reden="andereVervolgkeuze"),
        examen_uitkomst="geslaagd",
        examen_datum=date(2027, 5, 3),
    )
    assert codes(aanleveren_leerlingen(processing, school, [gezakt, afmelden])) == [(1, None), (2, None)]
    assert _wijzigingen(processing) == voor + 2

    rijen = {
        r.sleutel_hash: r for r in processing.session.scalars(select(models.Leerling))
    }  # the stored rows
    per_nummer = {
        processing.keyring.decrypt(r.nummer_versleuteld).waarde: (
            r.status,
            r.examen_uitkomst,
            r.examen_datum,
        )
        for r in rijen.values()
    }
    # Gezakt leaves the pupil active: the school decides, not the result.
    assert per_nummer == {
        P1: (MboGangerStatus.AFGEMELD, "geslaagd", date(2027, 5, 3)),
        P3: (MboGangerStatus.ACTIEF, "gezakt", date(2027, 5, 2)),
    }
    M = models.LeerlingMutatie
    geschiedenis = processing.session.execute(
        select(M.mutatie, M.examen_uitkomst, M.examen_datum, M.vastgelegd_op).order_by(M.id)
    ).all()
    assert [(g[0], g[1], g[2], _utc(g[3])) for g in geschiedenis] == [
        ("toevoegen", "geslaagd", date(2027, 5, 1), NU),
        ("toevoegen", None, None, NU),
        ("wijzigen", "gezakt", date(2027, 5, 2), NU),
        ("afmelden", "geslaagd", date(2027, 5, 3), NU),
    ]


# --- CSV files ---------------------------------------------------------------------------------------


def test_csv_kolommen_voor_intake_overeenkomst_en_examen(processing, call):
    mbo = (
        "bsn;brinMbo;status;datum;intakeDatum;intakeUitkomst;onderwijsovereenkomstDatum\n"
        f"{P1};99XB;ingeschreven;2027-04-01;01-04-2027;positiefAdvies;2027-04-02\n"
        f"{P2};99XB;aangemeld;2027-03-01;2027-03-05;wellicht;\n"
        f"{P3};99XB;aangemeld;2027-03-01;;;gisteren\n"
    )
    uitkomst = aanleveren_aanmeldingen_bestand(processing, call(MBO_X), mbo.encode())
    assert codes(uitkomst) == [(2, None), (3, "VVA126"), (4, "VVA122")]
    assert "positiefAdvies, negatiefAdvies" in uitkomst.outcomes[1].melding.tekst_nl
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
    uitkomst = aanleveren_leerlingen_bestand(processing, call(SCHOOL_A), vo.encode())
    assert codes(uitkomst) == [(2, None), (3, "VVA127"), (4, "VVA122")]
    assert "geslaagd, gezakt, doorstroomVo of vertrekZonderDiploma" in uitkomst.outcomes[1].melding.tekst_nl
    assert "geslaagd, gezakt, doorstroomVo or vertrekZonderDiploma" in uitkomst.outcomes[1].melding.tekst_en
    row = processing.session.scalars(select(models.Leerling)).one()
    assert (row.examen_uitkomst, row.examen_datum) == ("vertrekZonderDiploma", date(2027, 5, 1))


# --- who sees what ---------------------------------------------------------------------------------------


def _scenario(processing, call) -> None:
    """P1 of school A, living in Amsterdam, with an exam result, enrolled at X after a positive intake
    and registered at Y with a negative one."""
    school = call(SCHOOL_A)
    geslaagd = _met(leerling(1, P1), examen_uitkomst="geslaagd", examen_datum=date(2027, 5, 1))
    assert codes(aanleveren_leerlingen(processing, school, [geslaagd])) == [(1, None)]
    bij_x = _met(
        aanmelding(1, P1, "99XB", "ingeschreven", date(2027, 4, 1)),
        intake_datum=date(2027, 4, 1),
        intake_uitkomst="positiefAdvies",
        overeenkomst_datum=date(2027, 4, 3),
    )
    bij_y = _met(
        aanmelding(1, P1, "99XE", "aangemeld", date(2027, 3, 1)),
        intake_datum=date(2027, 3, 20),
        intake_uitkomst="negatiefAdvies",
    )
    assert codes(aanleveren_aanmeldingen(processing, call(MBO_X), [bij_x])) == [(1, None)]
    assert codes(aanleveren_aanmeldingen(processing, call(MBO_Y), [bij_y])) == [(1, None)]


def _bekeken(processing, aanroep_: Caller) -> Overzicht:
    [overzicht] = opvragen_status(processing, aanroep_, [(P1, None)])
    return overzicht


def _procesfeiten(overzicht: Overzicht) -> tuple:
    beeld = overzicht.beeld
    return (
        {a.brin_mbo: (a.intake, a.overeenkomst_datum) for a in beeld.aanmeldingen},
        beeld.examenresultaat,
    )


X_FEITEN = (Intake(date(2027, 4, 1), "positiefAdvies"), date(2027, 4, 3))
Y_FEITEN = (Intake(date(2027, 3, 20), "negatiefAdvies"), None)
EXAMEN = Examenresultaat("geslaagd", date(2027, 5, 1))


def test_zichtbaarheid_per_soort_partij(processing, call):
    _scenario(processing, call)
    regio = call(REGIO_21)
    # REGIO_21 serves MBO X; as a system serving school A too it also gets the exam result.
    regio_voor_a = replace(regio, partij=replace(regio.partij, brins=regio.partij.brins | {"99XA"}))

    assert _procesfeiten(_bekeken(processing, call(SCHOOL_A))) == (
        {"99XB": X_FEITEN, "99XE": Y_FEITEN},
        EXAMEN,
    )
    assert _procesfeiten(_bekeken(processing, call(AMSTERDAM))) == (
        {"99XB": X_FEITEN, "99XE": Y_FEITEN},
        EXAMEN,
    )
    # MBO institutions: their own registration's facts, never the exam result nor the other's intake.
    assert _procesfeiten(_bekeken(processing, call(MBO_X))) == ({"99XB": X_FEITEN}, None)
    assert _procesfeiten(_bekeken(processing, call(MBO_Y))) == ({"99XE": Y_FEITEN}, None)
    # A regional system: the registrations of its region's pupils; the exam result only for a school it serves.
    assert _procesfeiten(_bekeken(processing, regio)) == ({"99XB": X_FEITEN, "99XE": Y_FEITEN}, None)
    assert _procesfeiten(_bekeken(processing, regio_voor_a)) == ({"99XB": X_FEITEN, "99XE": Y_FEITEN}, EXAMEN)
    # the RMC function of a gemeente sees the exam result of its region's residents
    rmc = call(AMSTERDAM)
    rmc = replace(
        rmc, partij=replace(rmc.partij, gemeentecodes=frozenset({"0599"}), rmc_regios=frozenset({"21"}))
    )
    assert _procesfeiten(_bekeken(processing, rmc))[1] == EXAMEN  # fmt: skip


def _als_push(overzicht: Overzicht) -> etree._Element:
    message = m.OntvangenWijziging(wijzigingId=1, tijdstip=NU, leerling=mapping.overzicht_uit(overzicht))
    return get_object_as_xml(message, m.OntvangenWijziging)


def test_zonder_opt_in_geen_procesfeiten_en_geldig_volgens_het_oude_schema(processing, call):
    _scenario(processing, call)
    new, old = etree.XMLSchema(etree.parse(_XSD)), etree.XMLSchema(etree.parse(_XSD_VOOR))

    for oin in (SCHOOL_A, MBO_X, AMSTERDAM, REGIO_21):
        met = call(oin)
        without = replace(met, partij=replace(met.partij, procesfeiten=False))
        bare = _bekeken(processing, without)
        assert bare.beeld.examenresultaat is None, oin
        assert all(a.intake is None and a.overeenkomst_datum is None for a in bare.beeld.aanmeldingen), oin
        # the rest of the view is unchanged
        volledig = _bekeken(processing, met)
        assert [(a.brin_mbo, a.status) for a in bare.beeld.aanmeldingen] == [
            (a.brin_mbo, a.status) for a in volledig.beeld.aanmeldingen
        ]
        assert old.validate(_als_push(bare)), (oin, old.error_log)
        assert new.validate(_als_push(volledig)), (oin, new.error_log)
        # with the facts, the old schema refuses the push: the check above can fail
        assert not old.validate(_als_push(volledig)), oin

    push = _als_push(_bekeken(processing, call(SCHOOL_A)))
    vv = "{urn:nl:vva:aanmelden:v1}"
    bij_x = push.find(f"{vv}leerling/{vv}aanmelding")
    assert [etree.QName(e).localname for e in bij_x] == [
        *("brinMbo", "status", "datum", "intake", "onderwijsovereenkomstDatum")
    ]
    assert (bij_x.findtext(f"{vv}intake/{vv}datum"), bij_x.findtext(f"{vv}intake/{vv}uitkomst")) == (
        "2027-04-01",
        "positiefAdvies",
    )
    assert bij_x.findtext(f"{vv}onderwijsovereenkomstDatum") == "2027-04-03"
    examen = push.find(f"{vv}leerling/{vv}examenresultaat")
    assert [(etree.QName(e).localname, e.text) for e in examen] == [
        ("uitkomst", "geslaagd"),
        ("datum", "2027-05-01"),
    ]


def test_een_laat_gemelde_inschrijving_met_eerdere_intake_en_overeenkomst_gaat_niet_verloren(
    processing, call
):
    """An institution that reports a registration for the first time as ingeschreven (late) never
    said when the pupil registered: its earlier intake and overeenkomst are not "before the
    registration", and refusing them would refuse the enrolment with them."""
    laat = _met(
        aanmelding(1, P1, "99XB", "ingeschreven", date(2027, 5, 1)),
        intake_datum=date(2027, 3, 15),
        intake_uitkomst="positiefAdvies",
        overeenkomst_datum=date(2027, 4, 20),  # signed before the enrolment's date: normal
    )

    assert codes(aanleveren_aanmeldingen(processing, call(MBO_X), [laat])) == [(1, None)]
    row = processing.session.scalars(select(models.Aanmelding)).one()
    assert (row.status, row.intake_datum, row.overeenkomst_datum) == (
        "ingeschreven",
        date(2027, 3, 15),
        date(2027, 4, 20),
    )
