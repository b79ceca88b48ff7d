"""Runs the broker under gunicorn, a production WSGI server (pre-fork workers)."""

from __future__ import annotations

import logging
import sys

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from broker.bootstrap import Omgeving
from broker.privacy.logfilter import bescherm
from broker.web.tls import server_context


class _BeschermdeLogger(Logger):
    """gunicorn's logger with pupil numbers masked in the error and access logs (it quotes
    malformed request lines and headers verbatim)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        bescherm(self.error_log)
        bescherm(self.access_log)


def _configureer_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    )
    wortel = logging.getLogger()
    wortel.handlers[:] = [handler]
    wortel.setLevel(logging.INFO)
    bescherm(wortel)


class _Gunicorn(BaseApplication):
    def __init__(self, omgeving: Omgeving, opties: dict, maak_app=None) -> None:
        self._omgeving = omgeving
        self._opties = opties
        self._maak_app = maak_app
        super().__init__()

    def load_config(self) -> None:
        for sleutel, waarde in self._opties.items():
            self.cfg.set(sleutel, waarde)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 24+ opens a control socket shared by every instance in ~/.gunicorn; one
            # stopping instance would remove it for the others, and operators use systemd anyway.
            self.cfg.set("control_socket_disable", True)

    def load(self):
        from broker.web.app import Broker

        return (self._maak_app or Broker)(self._omgeving)


def _tls_opties(omgeving: Omgeving) -> dict:
    """gunicorn's TLS options when the settings name a server key (embedded two-way TLS)."""
    instellingen = omgeving.settings
    if instellingen.tls_sleutel is None:
        return {}
    certificaat, sleutel = str(instellingen.tls_certificaat), str(instellingen.tls_sleutel)
    client_cas = (
        [str(instellingen.tls_client_ca)]
        if instellingen.tls_client_ca
        else [str(p) for p in instellingen.ca_bestanden]
    )

    def context(_config, _standaard):
        return server_context(certificaat, sleutel, client_cas)

    return {"certfile": certificaat, "keyfile": sleutel, "ssl_context": context}


def serveer(omgeving: Omgeving, host: str, poort: int, workers: int, threads: int = 4, maak_app=None) -> None:
    """Serve the broker on ``host:poort`` with ``workers`` processes of ``threads`` threads each.

    Each worker builds its own ``Broker`` after the fork (database connections are not shared
    between processes). Blocks until stopped (SIGTERM/SIGINT).
    """
    _configureer_logging()
    _Gunicorn(
        omgeving,
        {
            "logger_class": _BeschermdeLogger,
            "bind": f"{host}:{poort}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": "-",
            # Never log query strings or bodies; the access log shows method, path and status only.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss',
            **_tls_opties(omgeving),
        },
        maak_app,
    ).run()
