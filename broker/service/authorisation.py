"""Authorisation of a caller (check order step 5; docs/architecture.md, "Parties and what they may see"):
may the party that authenticated (its certificate OIN) speak for the party in wsa:From, and is that
party registered for the service it calls?

The inbound pipeline (``broker.web.pipeline``) calls ``authorise`` with plain values read from the
verified message; a refusal is ``NotAuthorised`` (``broker.service.context``), which the pipeline
answers with the Edukoppeling fault Client.DK0002.
"""

from __future__ import annotations

from datetime import date

from broker.domain.identifiers import is_test_oin
from broker.domain.visibility import Partij, PartijSoort
from broker.registry.mandates import MANDAAT_DOES_NOT_COVER, MANDAAT_VALID
from broker.registry.snapshot import registry_snapshot
from broker.service.context import NotAuthorised

#: Which kind of party may call which service (docs/architecture.md, "Parties and what they may see").
SERVICE_PARTIJSOORT = {
    "vo": PartijSoort.VO_SCHOOL,
    "mbo": PartijSoort.MBO_INSTELLING,
    "gemeente": PartijSoort.GEMEENTE,
    "regio": PartijSoort.REGIONAAL_SYSTEEM,
}


def authorise(
    session, dienst: str, operatie: str, from_oin: str, certificaat_oin: str | None, settings
) -> Partij:
    """Authorisation (check order step 5): the certificate OIN is the From party or holds an active mandate
    for it, and the From OIN is a registered party of the service's kind (M1, M2, H48, H112).

    ``dienst`` is the service's key (``vo``, …, ``ontvanger``), ``operatie`` the operation's contract
    name, ``instellingen`` the broker's settings.

    Raises ``NotAuthorised`` (DK0002) whose detail says which of the three failed: no mandate,
    a mandate that does not cover this operation or day, or wsa:From not registered for this
    service. The mandate is checked first and "no mandate" covers an unknown From too, so a
    certificate holder learns nothing about a party it holds no mandate for (F3); only the party
    itself, or its mandate holder, hears that it is not registered for the service."""
    if dienst == "ontvanger":
        return _authorise_sender_of_pushes(from_oin, certificaat_oin, settings)
    register = registry_snapshot(session)  # this process's copy, renewed on any registry change
    action = f"{dienst}/{operatie}"
    today = date.today()
    if certificaat_oin is not None and certificaat_oin != from_oin:
        state = register.mandaat_state(certificaat_oin, from_oin, today, action)
        if state != MANDAAT_VALID:
            raise _mandaat_refusal(state, certificaat_oin, from_oin, action, today)
    if settings.environment == "production" and is_test_oin(from_oin):
        raise NotAuthorised(
            f"wsa:From (OIN {from_oin}) is een test-OIN (00000099…): in productie niet toegestaan"
        )
    partij = register.find(from_oin)
    if partij is None or partij.soort != SERVICE_PARTIJSOORT[dienst]:
        raise NotAuthorised(
            f"wsa:From (OIN {from_oin}) is niet aangemeld voor deze dienst ({dienst}); "
            "de beheerder van de broker registreert partijen per dienst"
        )
    return partij


def _authorise_sender_of_pushes(from_oin: str, certificaat_oin: str | None, settings) -> Partij:
    """A receiver takes pushes only from the configured facility OINs, signed by that OIN itself."""
    senders = settings.receiver_senders
    if from_oin not in senders or certificaat_oin not in (None, from_oin):
        raise NotAuthorised("de afzender (wsa:From) is niet de voorziening")
    return Partij(oin=from_oin, soort=PartijSoort.VOORZIENING)


def _mandaat_refusal(
    state: str, certificaat_oin: str, from_oin: str, action: str, on: date
) -> NotAuthorised:
    """The DK0002 refusal for a certificate that may not speak for ``from_oin``: it names only the
    caller's own certificate OIN, the From OIN it sent and its own mandate (§5 M2)."""
    if state == MANDAAT_DOES_NOT_COVER:
        return NotAuthorised(
            f"het mandaat van het certificaat (OIN {certificaat_oin}) voor wsa:From (OIN {from_oin}) dekt "
            f"deze operatie ({action}) of deze datum ({on.isoformat()}) niet; de partij in wsa:From kan het "
            "mandaat laten uitbreiden of verlengen",
            audit=f"mandate of {certificaat_oin} for {from_oin} does not cover {action} on {on.isoformat()}",
        )
    return NotAuthorised(
        f"het certificaat (OIN {certificaat_oin}) heeft geen mandaat voor wsa:From (OIN {from_oin}); "
        "de partij in wsa:From laat het mandaat registreren bij de beheerder van de broker, of u stuurt "
        "wsa:From met het OIN van uw eigen certificaat",
        audit=f"no mandate of {certificaat_oin} for {from_oin}",
    )
