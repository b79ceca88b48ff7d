"""What ``vva serve`` and ``vva receiver serve`` check before they start serving, in the parent process.

A refusal here is one line on stderr and a non-zero exit, before any address is printed. The same
conditions would otherwise only surface in a gunicorn worker, as a traceback followed by "Worker failed
to boot" (issue 20, item 7). The worker repeats the production rule (``broker.web.app``) as defence in
depth. Nothing here imports the web application: that would create the Prometheus metrics before
``serve_forever`` has prepared their folder.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from broker.bootstrap import Runtime
from broker.config import Settings
from broker.db.migrate import revision_behind
from broker.edukoppeling.contract import Contract
from broker.errors import BrokerError

#: The signed profile (S0): what production requires of every service.
SIGNED = "2W-be-S"


class StartRefused(BrokerError, ValueError):
    """The settings do not allow serving; the text is the one line the operator sees."""


def refuse_unsafe_production(settings: Settings, contract: Contract) -> None:
    """In production every service is signed (2W-be-S) and every request comes with a TLS client
    certificate; anything less would let anyone claim any OIN in wsa:From. Raises ``StartRefused``."""
    if not settings.production:
        return
    unsafe = sorted(
        d.service_id for d in contract.services.values() if settings.profile_of(d.service_id) != SIGNED
    )
    if unsafe:
        raise StartRefused(
            f'refusing to serve in production: service(s) {", ".join(unsafe)} are not signed (profile "2W-be"); '
            'production needs profile = "2W-be-S" for every service (check profile and profiles)'
        )
    if not settings.client_certificate_required:
        raise StartRefused(
            "refusing to serve in production without TLS client certificates (tls_required = false); "
            "remove tls_required or set it to true"
        )


def check_start(runtime: Runtime, contract: Contract) -> None:
    """Everything a worker would otherwise fail on at boot: the production rule, the signing key and
    certificate, the trust store (in production: no demo CA; CRLs present) and the key file.
    Built on a throwaway ``Runtime``, so nothing of it is shared with the forked workers.
    Raises ``StartRefused`` with one line naming the setting to fix."""
    settings = runtime.settings
    refuse_unsafe_production(settings, contract)
    trial = Runtime(settings)
    signed = any(settings.profile_of(d.service_id) == SIGNED for d in contract.services.values())
    try:
        if signed:
            _ = trial.signer
        if signed or settings.client_certificate_required:
            _ = trial.trust_store
        _ = trial.keyring
    except (ValueError, OSError) as error:
        raise StartRefused(f"refusing to serve: {_one_line(error)}{_hint_for(error, settings)}") from None


def check_schema(runtime: Runtime) -> None:
    """The broker's database is at the newest migration. ``vva serve`` does not migrate (several web
    processes starting at once would race, and a deployment migrates once, before them): on an older
    schema every request would fail. Raises ``StartRefused`` saying to run ``vva init``; a database
    that cannot be reached now is not refused (availability: the broker answers DK0051 until it is back)."""
    trial = Runtime(runtime.settings)
    try:
        behind = revision_behind(trial.engine)
    except SQLAlchemyError:
        # Unreachable now: the broker still starts, answers Server.DK0051 and says why in /health, and
        # serves once the database is back (tests/edukoppeling/test_availability.py).
        return
    finally:
        trial.engine.dispose()  # nothing of the check is inherited by the forked workers
    if behind:
        current, head = behind
        raise StartRefused(
            f"refusing to serve: the database schema is at revision {current or '(none)'}, this vva needs "
            f"{head}; run 'vva init' first (it migrates the database, and keeps what is there)"
        )


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _hint_for(error: BaseException, settings: Settings) -> str:
    text = str(error)
    if "demo CA" in text:
        return "; set trust_ca (and trust_crl) to the PKIoverheid CA files (deploy/README.md)"
    if isinstance(error, FileNotFoundError) and settings.production:
        return "; check the file settings in the settings file (deploy/README.md)"
    if isinstance(error, FileNotFoundError):
        return "; run 'vva init' first (it makes the keys and the demo PKI)"
    return ""
