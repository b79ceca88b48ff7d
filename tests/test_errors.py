"""One error model (issue 19, item 3): every exception class the broker defines derives from
``BrokerError`` (``broker/errors.py``), so one ``except BrokerError`` catches whatever the broker
refuses, and the tree in ``broker/edukoppeling/faults.py`` is the whole tree."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import broker
from broker.errors import BrokerError


def _modules() -> list[str]:
    # broker.__main__ runs the CLI when imported; it defines no class.
    return [
        m.name
        for m in pkgutil.walk_packages(broker.__path__, prefix="broker.")
        if m.name != "broker.__main__"
    ]


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ == name and issubclass(value, BaseException):
                found[f"{name}.{value.__qualname__}"] = value
    return found


def test_every_exception_class_of_the_broker_derives_from_broker_error():
    classes = _exception_classes()
    assert len(classes) >= 21  # the walk found the modules, not an empty package
    assert [name for name, cls in classes.items() if not issubclass(cls, BrokerError)] == []


def test_a_former_value_error_is_still_a_value_error():
    from broker.config import SettingsError
    from broker.domain.identifiers import InvalidOin
    from broker.domain.meldingen import Rejection
    from broker.toml_file import TomlFileError

    for cls in (SettingsError, InvalidOin, Rejection, TomlFileError):
        assert issubclass(cls, ValueError) and issubclass(cls, BrokerError), cls


def test_the_faults_module_draws_every_exception_class_and_ws_security_class():
    from broker.edukoppeling import faults

    tree = faults.__doc__
    assert [name for name in _exception_classes() if f" {name.rsplit('.', 1)[1]} " not in tree] == []
    assert [c.name for c in faults.WsSecurityFault if f"{c.name}  " not in tree or c.value not in tree] == []
