"""Catalogue of per-record result codes ("meldingen") returned to the sender.

Every code is "VVA" + 3 digits, with one exception: ``DK0002`` (Edukoppeling "Niet geautoriseerd") for a
record of a regional system's batch that names a school the system does not serve — the same fault a
whole message would get, reported for that record alone so that the rest of the batch applies. The
texts tell the sender what to fix. They are fixed strings and never
contain a value from the message: a rejected record may hold the BSN of a minor, and result texts end up
in vendor logs and support tickets (AVG art. 5 lid 1 sub c, data minimisation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from broker.errors import BrokerError

_CODE_PATTERN = re.compile(r"\A(VVA[0-9]{3}|DK0002)\Z")


@dataclass(frozen=True)
class Melding:
    """One result code with its Dutch and English text.

    Raises ValueError when ``code`` is not "VVA" followed by 3 digits, nor "DK0002".
    """

    code: str
    tekst_nl: str
    tekst_en: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE_PATTERN.match(self.code):
            raise ValueError("meldingcode moet de vorm VVA999 hebben")


class Rejection(BrokerError, ValueError):
    """A record is rejected; ``.melding`` says why.

    ``str()`` gives "<code>: <tekst_en>". The exception carries only the catalogue entry, never the
    rejected value, so it is safe to log and to put in a response.
    """

    def __init__(self, melding: Melding) -> None:
        super().__init__(melding)
        self.melding = melding

    def __str__(self) -> str:
        return f"{self.melding.code}: {self.melding.tekst_en}"


BSN_ONGELDIG = Melding(
    "VVA101",
    "Het BSN is ongeldig: het moet uit 9 cijfers bestaan (8 als de voorloopnul is weggelaten) "
    "en aan de elfproef voldoen.",
    "The BSN is invalid: it must consist of 9 digits (8 if the leading zero was dropped) "
    "and pass the elfproef (mod-11 check).",
)
ONDERWIJSNUMMER_ONGELDIG = Melding(
    "VVA102",
    "Het onderwijsnummer is ongeldig: het moet uit 9 cijfers bestaan, met 10 beginnen "
    "en aan de controle voor onderwijsnummers (rest 5 bij deling door 11) voldoen.",
    "The onderwijsnummer is invalid: it must consist of 9 digits, start with 10 "
    "and pass the onderwijsnummer check (remainder 5 modulo 11).",
)
LEERLINGNUMMER_ONTBREEKT_OF_DUBBEL = Melding(
    "VVA103",
    "Geef precies één leerlingnummer op: een BSN of, als de leerling geen BSN heeft, een onderwijsnummer.",
    "Give exactly one pupil number: a BSN or, when the pupil has no BSN, an onderwijsnummer.",
)
BRIN_ONGELDIG = Melding(
    "VVA104",
    "De BRIN-code is ongeldig: gebruik 2 cijfers en 2 hoofdletters, zoals 25BE.",
    "The BRIN code is invalid: use 2 digits followed by 2 capital letters, such as 25BE.",
)
BRIN_ONBEKEND = Melding(
    "VVA105",
    "De BRIN-code komt niet voor in de referentiegegevens van DUO voor deze cyclus.",
    "The BRIN code does not occur in the DUO reference data for this cycle.",
)
BRIN_NIET_VAN_AFZENDER = Melding(
    "VVA106",
    "De afzender is niet gemachtigd om voor deze BRIN-code gegevens aan te leveren.",
    "The sender is not authorised to deliver data on behalf of this BRIN code.",
)
POSTCODE_ONGELDIG = Melding(
    "VVA107",
    "De postcode is ongeldig: gebruik 4 cijfers (niet beginnend met 0) en 2 letters, zoals 1234AB; "
    "de lettercombinaties SA, SD en SS bestaan niet.",
    "The postcode is invalid: use 4 digits (not starting with 0) and 2 letters, such as 1234AB; "
    "the letter pairs SA, SD and SS are not used.",
)
GEMEENTECODE_ONGELDIG = Melding(
    "VVA108",
    "De gemeentecode is ongeldig of onbekend: gebruik de CBS-gemeentecode van 4 cijfers, zoals 0363.",
    "The gemeente code is invalid or unknown: use the 4-digit CBS municipality code, such as 0363.",
)
VESTIGING_ONGELDIG = Melding(
    "VVA109",
    "De vestigingscode is ongeldig: gebruik 2 cijfers (zoals 00) of de volledige code van BRIN plus "
    "2 cijfers (zoals 16SW03) bij de opgegeven BRIN.",
    "The location code is invalid: use 2 digits (such as 00) or the full code of the BRIN plus "
    "2 digits (such as 16SW03) belonging to the given BRIN.",
)
REDEN_ONTBREEKT_OF_ONGELDIG = Melding(
    "VVA110",
    "De reden klopt niet: bij afmelden is een geldige afmeldreden verplicht (gaatNaarHavoVwo, "
    "nietGeslaagdBlijftZitten, verhuisd, andereVervolgkeuze, foutiefAangeleverd of nietMeerAangeleverd), "
    "bij toevoegen en wijzigen mag geen reden worden meegegeven.",
    "The reason is wrong: afmelden requires a valid withdrawal reason (gaatNaarHavoVwo, "
    "nietGeslaagdBlijftZitten, verhuisd, andereVervolgkeuze, foutiefAangeleverd or nietMeerAangeleverd), "
    "toevoegen and wijzigen must not carry a reason.",
)
OVERGANG_NIET_TOEGESTAAN = Melding(
    "VVA111",
    "Deze statusovergang is niet toegestaan vanuit de huidige status van de aanmelding.",
    "This status transition is not allowed from the registration's current status.",
)
DATUM_ONGELDIG = Melding(
    "VVA112",
    "De datum is ongeldig: hij ligt in de toekomst of buiten de lopende aanmeldcyclus.",
    "The date is invalid: it lies in the future or outside the current registration cycle.",
)
DUBBEL_IN_BATCH = Melding(
    "VVA113",
    "Deze leerling komt meer dan eens voor in dezelfde aanlevering; lever elke leerling één keer aan.",
    "This pupil occurs more than once in the same batch; deliver each pupil once.",
)
LEERLING_ONBEKEND = Melding(
    "VVA114",
    "Deze leerling is niet eerder door deze afzender aangeleverd; gebruik eerst toevoegen.",
    "This pupil was never delivered by this sender; use toevoegen first.",
)
CREBO_ONGELDIG = Melding(
    "VVA115",
    "De crebocode is ongeldig: gebruik precies 5 cijfers.",
    "The crebo code is invalid: use exactly 5 digits.",
)
LEERLING_AL_AANGELEVERD = Melding(
    "VVA116",
    "Deze leerling is al door deze school aangeleverd en is nog actief; gebruik wijzigen.",
    "This pupil was already delivered by this school and is still active; use wijzigen.",
)
MUTATIE_ONGELDIG = Melding(
    "VVA117",
    "De mutatiesoort is ongeldig: gebruik toevoegen, wijzigen of afmelden.",
    "The mutation type is invalid: use toevoegen, wijzigen or afmelden.",
)
STATUS_ONGELDIG = Melding(
    "VVA118",
    "De aanmeldstatus is ongeldig: gebruik aanmeldingOntvangen, aangemeld, geaccepteerd, "
    "ingeschreven, geweigerd of ingetrokken.",
    "The registration status is invalid: use aanmeldingOntvangen, aangemeld, geaccepteerd, "
    "ingeschreven, geweigerd or ingetrokken.",
)
AANMELDING_NIET_EENDUIDIG = Melding(
    "VVA119",
    "De leerling heeft meerdere aanmeldingen bij deze instelling: geef de crebo mee om aan te geven welke.",
    "The pupil has several registrations at this institution: give the crebo to say which one.",
)

TEKENCODERING_ONGELDIG = Melding(
    "VVA120",
    "Deze regel bevat tekens in een andere tekencodering dan de rest van het bestand (UTF-8 of "
    "windows-1252); sla het bestand opnieuw op als UTF-8 en controleer de letters met accenten.",
    "This row holds characters in another text encoding than the rest of the file (UTF-8 or "
    "windows-1252); save the file again as UTF-8 and check the accented letters.",
)
KOLOMMEN_ONGELIJK = Melding(
    "VVA121",
    "Deze regel heeft een ander aantal kolommen dan de kopregel; zet een waarde met het "
    "scheidingsteken erin tussen dubbele aanhalingstekens.",
    "This row has another number of columns than the header row; put a value that contains the "
    "separator between double quotes.",
)
DATUM_ONLEESBAAR = Melding(
    "VVA122",
    "De datum is onleesbaar: gebruik JJJJ-MM-DD (zoals 2027-03-01) of DD-MM-JJJJ (zoals 01-03-2027).",
    "The date cannot be read: use YYYY-MM-DD (such as 2027-03-01) or DD-MM-YYYY (such as 01-03-2027).",
)
INTAKE_VOOR_AANMELDING = Melding(
    "VVA123",
    "De intakedatum ligt vóór de datum waarop de leerling zich aanmeldde (de eerste gemelde status "
    "aanmeldingOntvangen of aangemeld); geef de datum waarop de intake werkelijk plaatsvond, of corrigeer "
    "eerst de aanmelddatum.",
    "The intake date lies before the date the pupil registered (the first reported status "
    "aanmeldingOntvangen or aangemeld); give the date the intake actually took place, or correct the "
    "registration date first.",
)
OVEREENKOMST_ZONDER_INSCHRIJVING = Melding(
    "VVA124",
    "Een onderwijsovereenkomst kan alleen bij een inschrijving: geef status ingeschreven mee in "
    "dezelfde regel, of laat onderwijsovereenkomstDatum weg tot de leerling is ingeschreven.",
    "An onderwijsovereenkomst requires enrolment: give status ingeschreven in the same record, or "
    "leave out onderwijsovereenkomstDatum until the pupil is enrolled.",
)
OVEREENKOMST_VOOR_AANMELDING = Melding(
    "VVA125",
    "De datum van de onderwijsovereenkomst ligt vóór de datum waarop de leerling zich aanmeldde; geef "
    "de datum van ondertekening.",
    "The onderwijsovereenkomst date lies before the date the pupil registered; give the date it was signed.",
)
INTAKE_ONGELDIG = Melding(
    "VVA126",
    "De intake is onvolledig of ongeldig: geef zowel de intakedatum als de uitkomst, en als uitkomst "
    "positiefAdvies, negatiefAdvies of nietVerschenen.",
    "The intake is incomplete or invalid: give both the intake date and the outcome, and as outcome "
    "positiefAdvies, negatiefAdvies or nietVerschenen.",
)
EXAMENRESULTAAT_ONGELDIG = Melding(
    "VVA127",
    "Het examenresultaat is onvolledig of ongeldig: geef zowel de uitkomst als de datum, en als "
    "uitkomst geslaagd, gezakt, doorstroomVo of vertrekZonderDiploma.",
    "The exam result is incomplete or invalid: give both the outcome and the date, and as outcome "
    "geslaagd, gezakt, doorstroomVo or vertrekZonderDiploma.",
)

#: A record of a regional system (regio service, flow d) for a BRIN the system does not serve: the
#: Edukoppeling code Client.DK0002 for that record only; not part of ``ALL`` (the VVA1xx catalogue).
BRIN_NIET_BEDIEND = Melding(
    "DK0002",
    "Niet geautoriseerd: het regionale systeem bedient deze BRIN-code niet volgens het partijregister "
    "van de voorziening.",
    "Not authorised: according to the broker's party registry the regional system does not serve "
    "this BRIN code.",
)

ALL: dict[str, Melding] = {
    m.code: m
    for m in (
        BSN_ONGELDIG,
        ONDERWIJSNUMMER_ONGELDIG,
        LEERLINGNUMMER_ONTBREEKT_OF_DUBBEL,
        BRIN_ONGELDIG,
        BRIN_ONBEKEND,
        BRIN_NIET_VAN_AFZENDER,
        POSTCODE_ONGELDIG,
        GEMEENTECODE_ONGELDIG,
        VESTIGING_ONGELDIG,
        REDEN_ONTBREEKT_OF_ONGELDIG,
        OVERGANG_NIET_TOEGESTAAN,
        DATUM_ONGELDIG,
        DUBBEL_IN_BATCH,
        LEERLING_ONBEKEND,
        CREBO_ONGELDIG,
        LEERLING_AL_AANGELEVERD,
        MUTATIE_ONGELDIG,
        STATUS_ONGELDIG,
        AANMELDING_NIET_EENDUIDIG,
        TEKENCODERING_ONGELDIG,
        KOLOMMEN_ONGELIJK,
        DATUM_ONLEESBAAR,
        INTAKE_VOOR_AANMELDING,
        OVEREENKOMST_ZONDER_INSCHRIJVING,
        OVEREENKOMST_VOOR_AANMELDING,
        INTAKE_ONGELDIG,
        EXAMENRESULTAAT_ONGELDIG,
    )
}
