"""Spyne models mirroring ``xsd/vva-aanmelden-v1.xsd`` element for element.

The XSD is the contract and is enforced by the gate before spyne sees a message
(``broker.edukoppeling.contract``); these classes only map the validated XML to Python objects and
back, so the types here are deliberately plain. ``tests/edukoppeling/test_contract.py::test_spyne_models_match_the_xsd`` checks that
every complex type here has exactly the children, in the order, that the XSD declares.
"""

from __future__ import annotations

from spyne import Boolean, ByteArray, ComplexModel, Date, DateTime, Integer, Long, Unicode

NS = "urn:nl:vva:aanmelden:v1"


class _Vva(ComplexModel):
    __namespace__ = NS


def _list(cls):
    return cls.customize(max_occurs="unbounded")


# --- building blocks -----------------------------------------------------------------------


class LeerlingId(_Vva):
    _type_info = [("bsn", Unicode), ("onderwijsnummer", Unicode)]


class Intake(_Vva):
    _type_info = [("datum", Date), ("uitkomst", Unicode)]


class Examenresultaat(_Vva):
    _type_info = [("uitkomst", Unicode), ("datum", Date)]


class AanleverLeerling(_Vva):
    _type_info = [
        ("volgnummer", Integer),
        ("bsn", Unicode),
        ("onderwijsnummer", Unicode),
        ("brinVo", Unicode),
        ("vestiging", Unicode),
        ("postcode", Unicode),
        ("woongemeente", Unicode),
        ("mutatie", Unicode),
        ("afmeldReden", Unicode),
        ("examenresultaat", Examenresultaat),
    ]


class AanleverAanmelding(_Vva):
    _type_info = [
        ("volgnummer", Integer),
        ("bsn", Unicode),
        ("onderwijsnummer", Unicode),
        ("brinMbo", Unicode),
        ("status", Unicode),
        ("datum", Date),
        ("crebo", Unicode),
        ("locatie", Unicode),
        ("intake", Intake),
        ("onderwijsovereenkomstDatum", Date),
    ]


class Resultaat(_Vva):
    _type_info = [
        ("volgnummer", Integer),
        ("verwerkt", Boolean),
        ("code", Unicode),
        ("tekstNl", Unicode),
        ("tekstEn", Unicode),
    ]


class Aanmelding(_Vva):
    _type_info = [
        ("brinMbo", Unicode),
        ("status", Unicode),
        ("datum", Date),
        ("crebo", Unicode),
        ("intake", Intake),
        ("onderwijsovereenkomstDatum", Date),
    ]


# --- contact details of institutions (issue 15, item 5) ----------------------------------------


class Contactgegevens(_Vva):
    _type_info = [
        ("rol", Unicode),
        ("brin", Unicode),
        ("naam", Unicode),
        ("telefoon", Unicode),
        ("internetadres", Unicode),
        ("email", Unicode),
    ]


# ------------------------------------------------------------------------------------------------


class LeerlingOverzicht(_Vva):
    _type_info = [
        ("bsn", Unicode),
        ("onderwijsnummer", Unicode),
        ("brinVo", Unicode),
        ("woongemeente", Unicode),
        ("mboGangerStatus", Unicode),
        ("aanmelding", _list(Aanmelding)),
        ("eldersAangemeld", Boolean),
        ("contactgegevens", _list(Contactgegevens)),
        ("examenresultaat", Examenresultaat),
    ]


class Wijziging(_Vva):
    _type_info = [("cursor", Long), ("leerling", LeerlingOverzicht)]


class Signaal(_Vva):
    _type_info = [
        ("signaalId", Long),
        ("soort", Unicode),
        ("aangemaaktOp", DateTime),
        ("brin", Unicode),
        ("bsn", Unicode),
        ("onderwijsnummer", Unicode),
        ("omschrijving", Unicode),
    ]


class BatchResultaat(_Vva):
    _type_info = [
        ("aantalVerwerkt", Integer),
        ("aantalAfgewezen", Integer),
        ("resultaat", _list(Resultaat)),
    ]


class LeerlingLijst(_Vva):
    _type_info = [("leerling", _list(LeerlingOverzicht))]


class Procescijfer(_Vva):
    _type_info = [
        ("brin", Unicode),
        ("cijfer", Unicode),
        ("dimensie", Unicode),
        ("aantal", Integer),
        ("onderdrukt", Boolean),
    ]


# --- operation elements (document/literal wrapped: element name = operation name) -----------


def _element(name: str, base=_Vva, fields=None):
    attrs = {"__type_name__": name}
    if fields is not None:
        attrs["_type_info"] = fields
    return type(name[0].upper() + name[1:], (base,), attrs)


Ping = _element("ping", fields=[("echo", Unicode)])
PingResponse = _element(
    "pingResponse", fields=[("dienst", Unicode), ("tijdstip", DateTime), ("echo", Unicode)]
)
AanleverenLeerlingen = _element(
    "aanleverenLeerlingen",
    fields=[("vervangStartpopulatie", Boolean), ("leerling", _list(AanleverLeerling))],
)
AanleverenLeerlingenResponse = _element("aanleverenLeerlingenResponse", base=BatchResultaat)
AanleverenAanmeldingen = _element(
    "aanleverenAanmeldingen", fields=[("aanmelding", _list(AanleverAanmelding))]
)
AanleverenAanmeldingenResponse = _element("aanleverenAanmeldingenResponse", base=BatchResultaat)
AanleverenLeerlingenBestand = _element(
    "aanleverenLeerlingenBestand", fields=[("vervangStartpopulatie", Boolean), ("bestand", ByteArray)]
)
AanleverenLeerlingenBestandResponse = _element("aanleverenLeerlingenBestandResponse", base=BatchResultaat)
AanleverenAanmeldingenBestand = _element("aanleverenAanmeldingenBestand", fields=[("bestand", ByteArray)])
AanleverenAanmeldingenBestandResponse = _element("aanleverenAanmeldingenBestandResponse", base=BatchResultaat)
OpvragenStatus = _element("opvragenStatus", fields=[("leerling", _list(LeerlingId))])
OpvragenStatusResponse = _element("opvragenStatusResponse", base=LeerlingLijst)
OpvragenNietAangemeld = _element("opvragenNietAangemeld", fields=[("brinVo", Unicode)])
OpvragenNietAangemeldResponse = _element("opvragenNietAangemeldResponse", base=LeerlingLijst)
OpvragenOverzicht = _element("opvragenOverzicht", fields=[("woongemeente", _list(Unicode))])
OpvragenOverzichtResponse = _element("opvragenOverzichtResponse", base=LeerlingLijst)
OpvragenWijzigingen = _element("opvragenWijzigingen", fields=[("vanafCursor", Long), ("maximum", Integer)])
OpvragenWijzigingenResponse = _element(
    "opvragenWijzigingenResponse",
    fields=[("wijziging", _list(Wijziging)), ("volgendeCursor", Long), ("meer", Boolean)],
)
OpvragenSignalen = _element("opvragenSignalen", fields=[("vanafSignaalId", Long)])
OpvragenSignalenResponse = _element("opvragenSignalenResponse", fields=[("signaal", _list(Signaal))])
OpvragenProcescijfers = _element("opvragenProcescijfers", fields=[("brin", Unicode), ("peildatum", Date)])
OpvragenProcescijfersResponse = _element(
    "opvragenProcescijfersResponse",
    fields=[
        ("cyclus", Integer),
        ("deadline", Date),
        ("peildatum", Date),
        ("procescijfer", _list(Procescijfer)),
    ],
)

# --- the receiver contract (broker → partner pushes) --------------------------------------------

OntvangenWijziging = _element(
    "ontvangenWijziging",
    fields=[("wijzigingId", Long), ("tijdstip", DateTime), ("leerling", LeerlingOverzicht)],
)
OntvangenWijzigingResponse = _element("ontvangenWijzigingResponse", fields=[("ontvangen", Boolean)])
OntvangenSignaal = _element("ontvangenSignaal", fields=[("signaal", Signaal)])
OntvangenSignaalResponse = _element("ontvangenSignaalResponse", fields=[("ontvangen", Boolean)])
