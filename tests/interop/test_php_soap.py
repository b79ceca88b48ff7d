"""PHP's SoapClient (Debian ``php-cli`` and ``php-soap``) loads every WSDL of the contract, served by
the broker and as files, and calls ``ping`` on each broker service in profile 2W-be."""

from __future__ import annotations

import subprocess

from broker.config import TEST_BROKER_OIN
from broker.edukoppeling.contract import Contract, contract_map
from tests.interop.conftest import HERE, VERSIONS, json_out, program, require_debian

#: A demo party per broker service (wsa:From of the ping).
SERVICES = {
    "vo": "0000000700099XA00000",
    "mbo": "0000000700099XB00000",
    "gemeente": "00000099000000000363",
    "regio": "00000099000000000042",
}


def test_php_soapclient_loads_all_wsdls_and_pings_in_2w_be(be_broker):
    require_debian("php-cli", program("php"))
    require_debian(
        "php-soap", lambda: "soap" in subprocess.run(["php", "-m"], capture_output=True, text=True).stdout
    )
    base = f"{be_broker.url}/vva"
    served = [f"{base}/{service}/v1?wsdl" for service in SERVICES]
    files = sorted(str(p) for p in (contract_map() / "wsdl").glob("*.wsdl"))
    pings = [f"{base}/{service}/v1={oin}" for service, oin in SERVICES.items()]
    outcome = subprocess.run(
        ["php", str(HERE / "php" / "ping.php"), TEST_BROKER_OIN, *served, *files, "--", *pings],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    result = json_out(outcome)
    VERSIONS.update({f"PHP SoapClient ({k})": v for k, v in result["versions"].items()})
    services = Contract().services.values()
    operations = {d.service_id: sorted(op.name for op in d.operations.values()) for d in services}
    for service in SERVICES:
        assert result["wsdl"][f"{base}/{service}/v1?wsdl"] == operations[service]
    for file_exists in files:
        service = file_exists.rsplit("vva-", 1)[1].removesuffix("-v1.wsdl")
        assert result["wsdl"][file_exists] == operations[service]
    assert result["ping"] == {f"{base}/{service}/v1": "php-soap" for service in SERVICES}
