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
    """What a spyne method works with; ``error`` catches an exception for the dispatcher."""

    dienst: str
    processing: Processing
    call: Caller
    error: BaseException | None = None


def _ping(ctx, request):
    work: Work = ctx.udc
    return m.PingResponse(dienst=work.dienst, tijdstip=datetime.now(UTC), echo=request.echo)


def _aanleveren_leerlingen(ctx, request):
    work: Work = ctx.udc
    uitkomst = leerlingen.aanleveren_leerlingen(
        work.processing,
        work.call,
        mapping.leerlingen_in(request),
        bool(request.vervangStartpopulatie),
        # on the regio service a regional system passes on its schools' deliveries (flow d)
        on_behalf_of_schools=work.dienst == "regio",
    )
    return mapping.batch_out(m.AanleverenLeerlingenResponse, uitkomst)


def _aanleveren_aanmeldingen(ctx, request):
    work: Work = ctx.udc
    uitkomst = aanmeldingen.aanleveren_aanmeldingen(
        work.processing, work.call, mapping.aanmeldingen_in(request)
    )
    return mapping.batch_out(m.AanleverenAanmeldingenResponse, uitkomst)


def _aanleveren_leerlingen_bestand(ctx, request):
    work: Work = ctx.udc
    with _file_fault():
        uitkomst = file_upload.aanleveren_leerlingen_bestand(
            work.processing, work.call, _bytes(request.bestand), bool(request.vervangStartpopulatie)
        )
    return mapping.batch_out(m.AanleverenLeerlingenBestandResponse, uitkomst)


def _aanleveren_aanmeldingen_bestand(ctx, request):
    work: Work = ctx.udc
    with _file_fault():
        uitkomst = file_upload.aanleveren_aanmeldingen_bestand(
            work.processing, work.call, _bytes(request.bestand)
        )
    return mapping.batch_out(m.AanleverenAanmeldingenBestandResponse, uitkomst)


def _bytes(value) -> bytes:
    # spyne hands a base64Binary over as a sequence of byte strings
    return b"".join(value or [])


@contextmanager
def _file_fault():
    """A file that cannot be processed as a whole is Client.DK0004 with what to fix as detail."""
    try:
        yield
    except file_upload.InvalidFile as error:
        raise EdukoppelingFault(FaultCode.CLIENT_DK0004, "upload refused", error.reason) from None


def _opvragen_status(ctx, request):
    work: Work = ctx.udc
    list_ = opvragen.opvragen_status(work.processing, work.call, mapping.ids_in(request))
    return m.OpvragenStatusResponse(leerling=[mapping.overzicht_out(o) for o in list_])


def _opvragen_niet_aangemeld(ctx, request):
    work: Work = ctx.udc
    list_ = opvragen.opvragen_niet_aangemeld(work.processing, work.call, request.brinVo)
    return m.OpvragenNietAangemeldResponse(leerling=[mapping.overzicht_out(o) for o in list_])


def _opvragen_overzicht(ctx, request):
    work: Work = ctx.udc
    list_ = opvragen.opvragen_overzicht(work.processing, work.call, list(request.woongemeente or []))
    return m.OpvragenOverzichtResponse(leerling=[mapping.overzicht_out(o) for o in list_])


def _opvragen_wijzigingen(ctx, request):
    work: Work = ctx.udc
    page = opvragen.opvragen_wijzigingen(
        work.processing, work.call, request.vanafCursor, request.maximum
    )
    return m.OpvragenWijzigingenResponse(
        wijziging=[m.Wijziging(cursor=c, leerling=mapping.overzicht_out(o)) for c, o in page.wijzigingen],
        volgendeCursor=page.volgende_cursor,
        meer=page.meer,
    )


def _opvragen_signalen(ctx, request):
    work: Work = ctx.udc
    rows = opvragen.opvragen_signalen(work.processing, work.call, request.vanafSignaalId)
    return m.OpvragenSignalenResponse(signaal=[mapping.signaal_out(r) for r in rows])


def _opvragen_procescijfers(ctx, request):
    # Audit (issue 5 part 2): this operation reads aggregates, no pupil; the lead's audit hook in
    # the pipeline (SoapPipeline._apply_all, after the dispatcher returns) records it with 0 pupils.
    work: Work = ctx.udc
    try:
        uitkomst = procescijfers.opvragen_procescijfers(
            work.processing, work.call, request.brin, request.peildatum
        )
    except procescijfers.InvalidPeildatum as error:
        raise EdukoppelingFault(
            FaultCode.CLIENT_DK0004, "peildatum outside the current cycle", str(error)
        ) from None
    return mapping.procescijfers_out(uitkomst)


def _ontvangen(ctx, request):
    # The reference receiver keeps what it got in its message log (written before this runs);
    # a redelivery with the same MessageID is answered from the MessageID memory, never twice.
    return m.OntvangenWijzigingResponse(ontvangen=True)


def _ontvangen_signaal(ctx, request):
    return m.OntvangenSignaalResponse(ontvangen=True)


_OPERATIONS = {
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


def make_service(name: str, operations: list[str]) -> type[ServiceBase]:
    """A spyne service class named ``name`` with the given operations (document/literal, bare
    body style over wrapper elements = the wrapped convention on the wire, T2)."""
    methods = {}
    for operation in operations:
        function, input_, output = _OPERATIONS[operation]
        methods[operation] = rpc(input_, _returns=output, _body_style="bare")(_method(function, operation))
    return type(name, (ServiceBase,), methods)


def _method(function, name: str):
    # A fresh function per service class: spyne binds each decorated function to one class.
    def method(ctx, request):
        return function(ctx, request)

    method.__name__ = name
    return method
