"""PHP's SoapClient (Debian ``php-cli`` and ``php-soap``) loads every WSDL of the contract, served by
the broker and as files, and calls ``ping`` on each broker service in profile 2W-be."""

from __future__ import annotations

import subprocess

from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.contract import Contract, contract_map
from tests.interop.conftest import HIER, VERSIES, json_uit, programma, vereis_debian

#: A demo party per broker service (wsa:From of the ping).
SPREKERS = {
    "vo": "0000000700099XA00000",
    "mbo": "0000000700099XB00000",
    "gemeente": "00000099000000000363",
    "regio": "00000099000000000042",
}


def test_php_soapclient_laadt_alle_wsdls_en_pingt_in_2w_be(be_broker):
    vereis_debian("php-cli", programma("php"))
    vereis_debian(
        "php-soap", lambda: "soap" in subprocess.run(["php", "-m"], capture_output=True, text=True).stdout
    )
    base = f"{be_broker.url}/vva"
    gediend = [f"{base}/{dienst}/v1?wsdl" for dienst in SPREKERS]
    files = sorted(str(p) for p in (contract_map() / "wsdl").glob("*.wsdl"))
    pings = [f"{base}/{dienst}/v1={oin}" for dienst, oin in SPREKERS.items()]
    uitkomst = subprocess.run(
        ["php", str(HIER / "php" / "ping.php"), TEST_BROKER_OIN, *gediend, *files, "--", *pings],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    resultaat = json_uit(uitkomst)
    VERSIES.update({f"PHP SoapClient ({k})": v for k, v in resultaat["versions"].items()})
    diensten = Contract().diensten.values()
    operaties = {d.service_id: sorted(op.naam for op in d.operaties.values()) for d in diensten}
    for dienst in SPREKERS:
        assert resultaat["wsdl"][f"{base}/{dienst}/v1?wsdl"] == operaties[dienst]
    for bestand in files:
        dienst = bestand.rsplit("vva-", 1)[1].removesuffix("-v1.wsdl")
        assert resultaat["wsdl"][bestand] == operaties[dienst]
    assert resultaat["ping"] == {f"{base}/{dienst}/v1": "php-soap" for dienst in SPREKERS}
