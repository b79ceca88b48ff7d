"""Runs the broker under gunicorn, a production WSGI server (pre-fork workers)."""

from __future__ import annotations

import atexit
import errno
import logging
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from gunicorn.app.base import Application
from gunicorn.glogging import Logger

from broker.bootstrap import Runtime
from broker.privacy.logfilter import protect_logger
from broker.web.tls import server_context


class _ProtectedLogger(Logger):
    """gunicorn's logger with pupil numbers masked in the error and access logs (it quotes
    malformed request lines and headers verbatim)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        protect_logger(self.error_log)
        protect_logger(self.access_log)


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    protect_logger(root)


class _Gunicorn(Application):
    """gunicorn with our settings, then those of a gunicorn configuration file (``deploy/gunicorn.conf.py``),
    then the options given on the command line; gunicorn's own argv parsing is not used."""

    def __init__(
        self,
        runtime: Runtime,
        options: dict,
        make_app=None,
        file: str | None = None,
        command_line: dict | None = None,
    ) -> None:
        self._runtime = runtime
        self.settings = runtime.settings  # read by the worker (broker.web.worker) in each process
        self._options = options
        self._make_app = make_app
        self._file = file
        self._command_line = command_line or {}
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        if self._file:
            self.load_config_from_file(self._file)
        for key, value in self._command_line.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 24+ opens a control socket shared by every instance in ~/.gunicorn; one
            # stopping instance would remove it for the others, and operators use systemd anyway.
            self.cfg.set("control_socket_disable", True)

    def load(self):
        from broker.web.app import make_app

        return (self._make_app or make_app)(self._runtime)


def _tls_options(runtime: Runtime) -> dict:
    """gunicorn's TLS options when the settings name a server key (embedded two-way TLS)."""
    settings = runtime.settings
    if settings.tls_key is None:
        return {}
    certificate, key = str(settings.tls_certificate), str(settings.tls_key)
    client_cas = (
        [str(settings.tls_client_ca)] if settings.tls_client_ca else [str(p) for p in settings.ca_files]
    )

    def context(_config, _default):
        return server_context(certificate, key, client_cas)

    return {"certfile": certificate, "keyfile": key, "ssl_context": context}


def port_in_use(host: str, port: int) -> bool:
    """Whether ``host:port`` is taken by another listener, checked the way gunicorn binds (with
    SO_REUSEADDR, so a port in TIME_WAIT is free), so that ``vva serve`` can say so in one line before
    printing addresses, instead of gunicorn retrying for five seconds and ending in a traceback."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False  # an unknown host is gunicorn's to report
    family, kind, protocol, _, address = addresses[0]
    with socket.socket(family, kind, protocol) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def serve_forever(
    runtime: Runtime,
    host: str,
    port: int,
    workers: int | None = None,
    threads: int | None = None,
    make_app=None,
    gunicorn_config: str | None = None,
) -> None:
    """Serve the broker on ``host:port`` with gunicorn: ``workers`` processes of ``threads`` threads.

    The defaults below hold unless ``gunicorn_config`` (a gunicorn configuration file, e.g.
    ``deploy/gunicorn.conf.py``) sets otherwise; ``workers`` and ``threads`` given here win over both
    (None = not given: 2 workers of 4 threads without a file). Each worker builds its own ``Broker``
    after the fork (database connections are not shared between processes). Blocks until stopped
    (SIGTERM/SIGINT).
    """
    _configure_logging()
    _prepare_metrics()
    _mark_aborted(runtime)
    command_line = {k: v for k, v in (("workers", workers), ("threads", threads)) if v is not None}
    _Gunicorn(
        runtime,
        {
            **DEFAULTS,
            "bind": f"{host}:{port}",
            **_tls_options(runtime),
        },
        make_app,
        gunicorn_config,
        command_line,
    ).run()


#: gunicorn settings of every ``vva serve``; a configuration file may override them.
DEFAULTS = {
    "logger_class": _ProtectedLogger,
    "workers": 2,
    "threads": 4,
    # gthread that receives each request in full before a thread serves it (H92, broker.web.worker).
    "worker_class": "broker.web.worker.BufferingWorker",
    "timeout": 60,
    "graceful_timeout": 10,
    # The request line, headers and their sizes are capped by gunicorn; the body by the broker
    # (max_request_bytes, 413) and by nginx (client_max_body_size).
    "limit_request_line": 4094,
    "limit_request_fields": 50,
    "limit_request_field_size": 8190,
    "accesslog": "-",
    # Never log query strings or bodies; the access log shows method, path and status only (the
    # logger masks 8–9 digit runs as a second line, see _BeschermdeLogger).
    "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss',
    "child_exit": lambda _arbiter, worker: _remove_process_metrics(worker.pid),
}


def _prepare_metrics() -> None:
    """Prometheus multiprocess mode: every worker writes its counters to files in one folder, which must
    be empty at start. The operator's ``PROMETHEUS_MULTIPROC_DIR`` (systemd ``RuntimeDirectory``) is
    emptied; without one a private temporary folder is made. Set before any worker imports
    prometheus_client."""
    multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if multiproc_dir:
        Path(multiproc_dir).mkdir(parents=True, exist_ok=True)
        for file in Path(multiproc_dir).glob("*.db"):
            file.unlink()
    else:
        multiproc_dir = tempfile.mkdtemp(prefix="vva-metriek-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir
        master = os.getpid()
        # Removed when the master exits; the workers (forks that exit through sys.exit too) leave it.
        atexit.register(lambda: os.getpid() == master and shutil.rmtree(multiproc_dir, ignore_errors=True))


def _mark_aborted(runtime: Runtime) -> None:
    """Rows ``ontvangen`` of requests killed mid-flight (written by versions before issue 18, which
    committed a request before processing it; ``log_received``): mark them, so operators can tell them
    apart. Never stops a start: a database that is away is reported by /health."""
    from broker.db.message_log import mark_aborted

    try:
        count = mark_aborted(runtime.sessions)
    except Exception as exc:  # noqa: BLE001 — the type says enough; the text may quote the URL
        logging.getLogger("vva").warning(
            "message log: could not mark interrupted requests (%s)", type(exc).__name__
        )
        return
    finally:
        runtime.close()  # no pooled connection may cross the fork into the workers
    if count:
        logging.getLogger("vva").warning(
            "message log: %d request(s) ended without an outcome; marked %s", count, "afgebroken"
        )


def _remove_process_metrics(pid: int) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)
