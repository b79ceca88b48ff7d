"""zeep (the Python SOAP client a LAS vendor is most likely to pick in Python) generates a client for
every WSDL of the contract, as files and as the broker serves them, without a single warning."""

from __future__ import annotations

import logging
import warnings
from importlib.metadata import version

import pytest
from zeep import Client, Settings

from broker.edukoppeling.contract import Contract, contract_map
from tests.interop.conftest import VERSIONS

FILES = sorted((contract_map() / "wsdl").glob("*.wsdl"))


def _without_warnings(wsdl: str, caplog) -> Client:
    caplog.clear()
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        client = Client(wsdl, settings=Settings(strict=True, forbid_dtd=True, forbid_entities=True))
        for service in client.wsdl.services.values():
            for port in service.ports.values():
                for operation in port.binding._operations.values():
                    operation.input.signature(), operation.output.signature()  # build every message type
    assert [str(w.message) for w in seen] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    return client


def _operations(client: Client) -> set[str]:
    return {
        naam
        for s in client.wsdl.services.values()
        for p in s.ports.values()
        for naam in p.binding._operations
    }


@pytest.mark.parametrize("wsdl_file", FILES, ids=[p.name for p in FILES])
def test_zeep_client_from_every_wsdl_file(wsdl_file, caplog):
    VERSIONS["zeep"] = version("zeep")
    client = _without_warnings(str(wsdl_file), caplog)
    service = Contract().service(wsdl_file.name.removeprefix("vva-").removesuffix("-v1.wsdl"))
    assert _operations(client) == {op.name for op in service.operations.values()}


def test_zeep_client_from_every_served_wsdl(be_broker, caplog):
    for service in ("vo", "mbo", "gemeente", "regio"):
        client = _without_warnings(f"{be_broker.url}/vva/{service}/v1?wsdl", caplog)
        assert _operations(client) == {op.name for op in Contract().service(service).operations.values()}
        # The served WSDL points at the server that served it, not at the placeholder in the file.
        wsdl_service = next(iter(client.wsdl.services.values()))
        assert (
            next(iter(wsdl_service.ports.values())).binding_options["address"]
            == f"{be_broker.url}/vva/{service}/v1"
        )
