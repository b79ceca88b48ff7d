"""Maps spyne request objects to service-layer input and service-layer results to spyne responses."""

from __future__ import annotations

from broker.domain.identifiers import Leerlingnummer
from broker.domain.visibility import AanmeldingFeit, Examenresultaat
from broker.service.aanmeldingen import AanmeldingInput
from broker.service.batch import BatchOutcome
from broker.service.leerlingen import LeerlingInput
from broker.service.opvragen import Overzicht, SignaalRow
from broker.service.procescijfers import Procescijfers
from broker.soap import models as m


def _list(value) -> list:
    return list(value or [])


def leerlingen_in(request) -> list[LeerlingInput]:
    return [
        LeerlingInput(
            volgnummer=r.volgnummer,
            bsn=r.bsn,
            onderwijsnummer=r.onderwijsnummer,
            brin_vo=r.brinVo,
            vestiging=r.vestiging,
            postcode=r.postcode,
            woongemeente=r.woongemeente,
            mutatie=r.mutatie,
            afmeldreden=r.afmeldReden,
            examen_uitkomst=r.examenresultaat.uitkomst if r.examenresultaat else None,
            examen_datum=r.examenresultaat.datum if r.examenresultaat else None,
        )
        for r in _list(request.leerling)
    ]


def aanmeldingen_in(request) -> list[AanmeldingInput]:
    return [
        AanmeldingInput(
            volgnummer=r.volgnummer,
            bsn=r.bsn,
            onderwijsnummer=r.onderwijsnummer,
            brin_mbo=r.brinMbo,
            status=r.status,
            datum=r.datum,
            crebo=r.crebo,
            locatie=r.locatie,
            intake_datum=r.intake.datum if r.intake else None,
            intake_uitkomst=r.intake.uitkomst if r.intake else None,
            overeenkomst_datum=r.onderwijsovereenkomstDatum,
        )
        for r in _list(request.aanmelding)
    ]


def ids_in(request) -> list[tuple[str | None, str | None]]:
    return [(r.bsn, r.onderwijsnummer) for r in _list(request.leerling)]


def batch_out(cls, uitkomst: BatchOutcome):
    return cls(
        aantalVerwerkt=uitkomst.processed_count,
        aantalAfgewezen=uitkomst.rejected_count,
        resultaat=[
            m.Resultaat(
                volgnummer=u.volgnummer,
                verwerkt=u.verwerkt,
                code=u.melding.code if u.melding else None,
                tekstNl=u.melding.tekst_nl if u.melding else None,
                tekstEn=u.melding.tekst_en if u.melding else None,
            )
            for u in uitkomst.outcomes
        ],
    )


def _leerling_id(nummer: Leerlingnummer | None) -> dict:
    if nummer is None:
        return {}
    return {"bsn": nummer.waarde} if nummer.soort == "bsn" else {"onderwijsnummer": nummer.waarde}


def overzicht_out(overzicht: Overzicht) -> m.LeerlingOverzicht:
    beeld = overzicht.beeld
    return m.LeerlingOverzicht(
        **_leerling_id(overzicht.nummer),
        brinVo=beeld.brin_vo,
        woongemeente=beeld.gemeentecode,
        mboGangerStatus=str(beeld.mbo_ganger_status) if beeld.mbo_ganger_status else None,
        aanmelding=[_aanmelding_out(a) for a in beeld.aanmeldingen],
        eldersAangemeld=beeld.elders_aangemeld,
        contactgegevens=[
            m.Contactgegevens(
                rol=str(c.rol),
                brin=c.brin,
                naam=c.naam,
                telefoon=c.telefoon,
                internetadres=c.internetadres,
                email=c.email,
            )
            for c in overzicht.contacten
        ],
        examenresultaat=_examenresultaat_out(beeld.examenresultaat),
    )


def _aanmelding_out(a: AanmeldingFeit) -> m.Aanmelding:
    return m.Aanmelding(
        brinMbo=a.brin_mbo,
        status=str(a.status),
        datum=a.datum,
        crebo=a.crebo,
        intake=m.Intake(datum=a.intake.datum, uitkomst=str(a.intake.uitkomst)) if a.intake else None,
        onderwijsovereenkomstDatum=a.overeenkomst_datum,
    )


def _examenresultaat_out(examen: Examenresultaat | None) -> m.Examenresultaat | None:
    if examen is None:
        return None
    return m.Examenresultaat(uitkomst=str(examen.uitkomst), datum=examen.datum)


def signaal_out(row: SignaalRow) -> m.Signaal:
    return m.Signaal(
        signaalId=row.signaal_id,
        soort=row.soort,
        aangemaaktOp=row.aangemaakt_op,
        brin=row.brin,
        **_leerling_id(row.nummer),
        omschrijving=row.omschrijving,
    )


def procescijfers_out(uitkomst: Procescijfers) -> m.OpvragenProcescijfersResponse:
    return m.OpvragenProcescijfersResponse(
        cyclus=uitkomst.peil.jaar,
        deadline=uitkomst.peil.deadline,
        peildatum=uitkomst.peil.peildatum,
        procescijfer=[
            m.Procescijfer(
                brin=r.brin,
                cijfer=r.cijfer,
                dimensie=r.dimensie or None,
                aantal=r.aantal,
                onderdrukt=r.aantal is None,
            )
            for r in uitkomst.cijfers
        ],
    )
