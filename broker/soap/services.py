"""The four spyne services (one per WSDL port type). Thin: map, call the service layer, map back.

Each method gets the unit of work and the authenticated caller through ``ctx.udc`` (a ``Work``),
set by the dispatcher after the Edukoppeling gate accepted the message.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from spyne import ServiceBase, rpc

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode
from broker.service import aanmeldingen, file_upload, leerlingen, opvragen, procescijfers
from broker.service.context import Caller, Processing
from broker.soap import mapping
from broker.soap import models as m


@dataclass
class Work:
    """What a spyne method works with; ``fout`` catches an exception for the dispatcher."""

    dienst: str
    verwerking: Processing
    aanroep: Caller
    fout: BaseException | None = None


def _ping(ctx, verzoek):
    werk: Work = ctx.udc
    return m.PingResponse(dienst=werk.dienst, tijdstip=datetime.now(UTC), echo=verzoek.echo)


def _aanleveren_leerlingen(ctx, verzoek):
    werk: Work = ctx.udc
    uitkomst = leerlingen.aanleveren_leerlingen(
        werk.verwerking,
        werk.aanroep,
        mapping.leerlingen_in(verzoek),
        bool(verzoek.vervangStartpopulatie),
        # on the regio service a regional system passes on its schools' deliveries (flow d)
        namens_scholen=werk.dienst == "regio",
    )
    return mapping.batch_uit(m.AanleverenLeerlingenResponse, uitkomst)


def _aanleveren_aanmeldingen(ctx, verzoek):
    werk: Work = ctx.udc
    uitkomst = aanmeldingen.aanleveren_aanmeldingen(
        werk.verwerking, werk.aanroep, mapping.aanmeldingen_in(verzoek)
    )
    return mapping.batch_uit(m.AanleverenAanmeldingenResponse, uitkomst)


def _aanleveren_leerlingen_bestand(ctx, verzoek):
    werk: Work = ctx.udc
    with _file_fault():
        uitkomst = file_upload.aanleveren_leerlingen_bestand(
            werk.verwerking, werk.aanroep, _bytes(verzoek.bestand), bool(verzoek.vervangStartpopulatie)
        )
    return mapping.batch_uit(m.AanleverenLeerlingenBestandResponse, uitkomst)


def _aanleveren_aanmeldingen_bestand(ctx, verzoek):
    werk: Work = ctx.udc
    with _file_fault():
        uitkomst = file_upload.aanleveren_aanmeldingen_bestand(
            werk.verwerking, werk.aanroep, _bytes(verzoek.bestand)
        )
    return mapping.batch_uit(m.AanleverenAanmeldingenBestandResponse, uitkomst)


def _bytes(waarde) -> bytes:
    # spyne hands a base64Binary over as a sequence of byte strings
    return b"".join(waarde or [])


@contextmanager
def _file_fault():
    """A file that cannot be processed as a whole is Client.DK0004 with what to fix as detail."""
    try:
        yield
    except file_upload.InvalidFile as fout:
        raise EdukoppelingFault(FaultCode.CLIENT_DK0004, "upload refused", fout.reden) from None


def _opvragen_status(ctx, verzoek):
    werk: Work = ctx.udc
    lijst = opvragen.opvragen_status(werk.verwerking, werk.aanroep, mapping.ids_in(verzoek))
    return m.OpvragenStatusResponse(leerling=[mapping.overzicht_uit(o) for o in lijst])


def _opvragen_niet_aangemeld(ctx, verzoek):
    werk: Work = ctx.udc
    lijst = opvragen.opvragen_niet_aangemeld(werk.verwerking, werk.aanroep, verzoek.brinVo)
    return m.OpvragenNietAangemeldResponse(leerling=[mapping.overzicht_uit(o) for o in lijst])


def _opvragen_overzicht(ctx, verzoek):
    werk: Work = ctx.udc
    lijst = opvragen.opvragen_overzicht(werk.verwerking, werk.aanroep, list(verzoek.woongemeente or []))
    return m.OpvragenOverzichtResponse(leerling=[mapping.overzicht_uit(o) for o in lijst])


def _opvragen_wijzigingen(ctx, verzoek):
    werk: Work = ctx.udc
    pagina = opvragen.opvragen_wijzigingen(
        werk.verwerking, werk.aanroep, verzoek.vanafCursor, verzoek.maximum
    )
    return m.OpvragenWijzigingenResponse(
        wijziging=[m.Wijziging(cursor=c, leerling=mapping.overzicht_uit(o)) for c, o in pagina.wijzigingen],
        volgendeCursor=pagina.volgende_cursor,
        meer=pagina.meer,
    )


def _opvragen_signalen(ctx, verzoek):
    werk: Work = ctx.udc
    regels = opvragen.opvragen_signalen(werk.verwerking, werk.aanroep, verzoek.vanafSignaalId)
    return m.OpvragenSignalenResponse(signaal=[mapping.signaal_uit(r) for r in regels])


def _opvragen_procescijfers(ctx, verzoek):
    # Audit (issue 5 part 2): this operation reads aggregates, no pupil; the lead's audit hook in
    # the pipeline (SoapPipeline._apply_all, after the dispatcher returns) records it with 0 pupils.
    werk: Work = ctx.udc
    try:
        uitkomst = procescijfers.opvragen_procescijfers(
            werk.verwerking, werk.aanroep, verzoek.brin, verzoek.peildatum
        )
    except procescijfers.InvalidPeildatum as fout:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0004, "peildatum outside the current cycle", str(fout)
        ) from None
    return mapping.procescijfers_uit(uitkomst)


def _ontvangen(ctx, verzoek):
    # The reference receiver keeps what it got in its message log (written before this runs);
    # a redelivery with the same MessageID is answered from the MessageID memory, never twice.
    return m.OntvangenWijzigingResponse(ontvangen=True)


def _ontvangen_signaal(ctx, verzoek):
    return m.OntvangenSignaalResponse(ontvangen=True)


_OPERATIES = {
    "ping": (_ping, m.Ping, m.PingResponse),
    "aanleverenLeerlingen": (_aanleveren_leerlingen, m.AanleverenLeerlingen, m.AanleverenLeerlingenResponse),
    "aanleverenAanmeldingen": (
        _aanleveren_aanmeldingen,
        m.AanleverenAanmeldingen,
        m.AanleverenAanmeldingenResponse,
    ),
    "aanleverenLeerlingenBestand": (
        _aanleveren_leerlingen_bestand,
        m.AanleverenLeerlingenBestand,
        m.AanleverenLeerlingenBestandResponse,
    ),
    "aanleverenAanmeldingenBestand": (
        _aanleveren_aanmeldingen_bestand,
        m.AanleverenAanmeldingenBestand,
        m.AanleverenAanmeldingenBestandResponse,
    ),
    "opvragenStatus": (_opvragen_status, m.OpvragenStatus, m.OpvragenStatusResponse),
    "opvragenNietAangemeld": (
        _opvragen_niet_aangemeld,
        m.OpvragenNietAangemeld,
        m.OpvragenNietAangemeldResponse,
    ),
    "opvragenOverzicht": (_opvragen_overzicht, m.OpvragenOverzicht, m.OpvragenOverzichtResponse),
    "opvragenWijzigingen": (_opvragen_wijzigingen, m.OpvragenWijzigingen, m.OpvragenWijzigingenResponse),
    "opvragenSignalen": (_opvragen_signalen, m.OpvragenSignalen, m.OpvragenSignalenResponse),
    "opvragenProcescijfers": (
        _opvragen_procescijfers,
        m.OpvragenProcescijfers,
        m.OpvragenProcescijfersResponse,
    ),
    "ontvangenWijziging": (_ontvangen, m.OntvangenWijziging, m.OntvangenWijzigingResponse),
    "ontvangenSignaal": (_ontvangen_signaal, m.OntvangenSignaal, m.OntvangenSignaalResponse),
}


def make_service(naam: str, operaties: list[str]) -> type[ServiceBase]:
    """A spyne service class named ``naam`` with the given operations (document/literal, bare
    body style over wrapper elements = the wrapped convention on the wire, T2)."""
    methoden = {}
    for operatie in operaties:
        functie, invoer, uitvoer = _OPERATIES[operatie]
        methoden[operatie] = rpc(invoer, _returns=uitvoer, _body_style="bare")(_method(functie, operatie))
    return type(naam, (ServiceBase,), methoden)


def _method(functie, naam: str):
    # A fresh function per service class: spyne binds each decorated function to one class.
    def methode(ctx, verzoek):
        return functie(ctx, verzoek)

    methode.__name__ = naam
    return methode
