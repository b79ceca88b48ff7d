"""zeep clients for the broker's services, signed and verified the Edukoppeling way.

The WSDL and XSD come from the contract files shipped with the broker (never fetched: hostile-inputs
"load WSDL/XSD from local files only"); requests are signed by the broker's own signer
(``EdukoppelingWsse``) and addressed by ``EdukoppelingAdressering``; every answer's signature,
signer (the broker's OIN, through the configured trust store), RelatesTo and SignatureConfirmation
are checked before anything of it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from zeep.transports import Transport

from broker.bootstrap import hardened_session, hardened_zeep_client
from broker.client.instellingen import ClientInstellingen
from broker.edukoppeling.contract import BROKER_DIENSTEN, Contract
from broker.edukoppeling.vertrouwen import Vertrouwen
from broker.edukoppeling.wss.ondertekening import Ondertekenaar
from broker.outbound.adressering import EdukoppelingAdressering
from broker.outbound.ondertekening import EdukoppelingWsse

#: The binding of each service in its WSDL (``wsdl/vva-<dienst>-v1.wsdl``).
_BINDINGEN = {
    "vo": "{urn:nl:vva:aanmelden:v1:vo}VoSchoolBinding",
    "mbo": "{urn:nl:vva:aanmelden:v1:mbo}MboInstellingBinding",
    "gemeente": "{urn:nl:vva:aanmelden:v1:gemeente}GemeenteBinding",
    "regio": "{urn:nl:vva:aanmelden:v1:regio}RegionaalSysteemBinding",
}
_BLOK = 64 * 1024


class _Voortgang:
    """A request body sent in blocks, reporting every block sent (requests streams an iterable with
    a length and still sends a Content-Length)."""

    def __init__(self, data: bytes, gemeld: Callable[[int], None]) -> None:
        self.data, self.gemeld = data, gemeld

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[bytes]:
        for begin in range(0, len(self.data), _BLOK):
            blok = self.data[begin : begin + _BLOK]
            yield blok
            self.gemeld(len(blok))


class _VoortgangTransport(Transport):
    """zeep's transport; while ``voortgang`` is set, every request body is streamed through the
    progress bar it makes (``voortgang(total bytes)`` gives a context manager with ``update(n)``)."""

    voortgang: Callable[[int], AbstractContextManager] | None = None

    def post(self, address, message, headers):
        if self.voortgang is None:
            return super().post(address, message, headers)
        data = message if isinstance(message, bytes) else message.encode()
        with self.voortgang(len(data)) as balk:
            return super().post(address, _Voortgang(data, balk.update), headers)


class Verbinding:
    """The services of one broker as one party (``instellingen``): ``dienst("vo")`` is a zeep
    service proxy with the WSDL's operations."""

    def __init__(
        self, instellingen: ClientInstellingen, ondertekenaar: Ondertekenaar, vertrouwen: Vertrouwen
    ) -> None:
        """``ondertekenaar`` signs as the party (its key and certificate), ``vertrouwen`` checks the
        broker's answers; both are built by the composition root (``broker.bootstrap``)."""
        self.instellingen = instellingen
        two_way = (instellingen.certificaat, instellingen.sleutel)  # two-way TLS (T8)
        sessie = hardened_session(
            instellingen.tls_ca, two_way if instellingen.endpoint.startswith("https:") else None
        )
        self.transport = _VoortgangTransport(
            session=sessie, timeout=30, operation_timeout=instellingen.timeout_s
        )
        self._contract = Contract(sleutels=BROKER_DIENSTEN)
        self._wsse = EdukoppelingWsse(ondertekenaar, vertrouwen, verwacht_oin=instellingen.broker_oin)

    def dienst(self, sleutel: str):
        """The zeep service proxy of service ``sleutel`` (vo, mbo, gemeente, regio)."""
        dienst = self._contract.dienst(sleutel)
        client = hardened_zeep_client(
            dienst.wsdl,
            transport=self.transport,
            wsse=self._wsse,
            plugins=[EdukoppelingAdressering(self.instellingen.oin, self.instellingen.broker_oin)],
        )
        return client.create_service(_BINDINGEN[sleutel], f"{self.instellingen.endpoint}{dienst.pad}")
