"""node-soap with xml-crypto (npm ``soap``, ``xml-crypto``): a client generated from the broker's WSDL
calls ``ping`` with an X.509-signed request the broker accepts, and verifies the broker's signed answer."""

from __future__ import annotations

import os
import subprocess

from broker.config import TEST_BROKER_OIN
from tests.interop.conftest import HERE, VERSIONS, json_out, node_modules

SCHOOL_A = "0000000700099XA00000"


def test_node_soap_client_signs_and_verifies_the_answer(signed_broker):
    modules = node_modules()
    pki = signed_broker.pki
    outcome = subprocess.run(
        [
            "node", str(HERE / "node" / "client.js"), f"{signed_broker.url}/vva/vo/v1?wsdl",
            str(pki / f"{SCHOOL_A}.key.pem"), str(pki / f"{SCHOOL_A}.cert.pem"), SCHOOL_A, TEST_BROKER_OIN,
            str(pki / "ca" / "issuing.pem"), str(pki / "ca" / "root.pem"),
        ],
        capture_output=True, text=True, timeout=120, env={**os.environ, "NODE_PATH": str(modules)},
    )  # fmt: skip
    response = json_out(outcome)
    VERSIONS.update({f"node-soap ({k})": v for k, v in response["versions"].items()})
    assert response["echo"] == "node-soap"
    # xml-crypto verified one reference per signed part of the broker's answer (S2, S8, R7).
    assert response["signed"] == sorted(
        ["Action", "BinarySecurityToken", "Body", "From", "MessageID", "RelatesTo", "SignatureConfirmation",
         "Timestamp", "To"]
    )  # fmt: skip
    assert f"serialNumber={TEST_BROKER_OIN}" in response["signer"]
