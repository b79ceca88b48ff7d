"""What ``vva serve`` and ``vva receiver serve`` check before they start serving, in the parent process.

A refusal here is one line on stderr and a non-zero exit, before any address is printed. The same
conditions would otherwise only surface in a gunicorn worker, as a traceback followed by "Worker failed
to boot" (issue 20, item 7). The worker repeats the production rule (``broker.web.app``) as defence in
depth. Nothing here imports the web application: that would create the Prometheus metrics before
``serveer`` has prepared their folder.
"""

from __future__ import annotations

from broker.bootstrap import Omgeving
from broker.config import Settings
from broker.edukoppeling.contract import Contract
from broker.errors import BrokerError

#: The signed profile (S0): what production requires of every service.
ONDERTEKEND = "2W-be-S"


class StartGeweigerd(BrokerError, ValueError):
    """The settings do not allow serving; the text is the one line the operator sees."""


def weiger_onveilige_productie(instellingen: Settings, contract: Contract) -> None:
    """In production every service is signed (2W-be-S) and every request comes with a TLS client
    certificate; anything less would let anyone claim any OIN in wsa:From. Raises ``StartGeweigerd``."""
    if not instellingen.production:
        return
    onveilig = sorted(
        d.sleutel for d in contract.diensten.values() if instellingen.profiel_van(d.sleutel) != ONDERTEKEND
    )
    if onveilig:
        raise StartGeweigerd(
            f'refusing to serve in production: service(s) {", ".join(onveilig)} are not signed (profile "2W-be"); '
            'production needs profiel = "2W-be-S" for every service (check profiel and profielen)'
        )
    if not instellingen.client_certificaat_vereist:
        raise StartGeweigerd(
            "refusing to serve in production without TLS client certificates (tls_vereist = false); "
            "remove tls_vereist or set it to true"
        )


def controleer_start(omgeving: Omgeving, contract: Contract) -> None:
    """Everything a worker would otherwise fail on at boot: the production rule, the signing key and
    certificate, the trust store (in production: no demo CA; CRLs present) and the key file.
    Built on a throwaway ``Omgeving``, so nothing of it is shared with the forked workers.
    Raises ``StartGeweigerd`` with one line naming the setting to fix."""
    instellingen = omgeving.settings
    weiger_onveilige_productie(instellingen, contract)
    proef = Omgeving(instellingen)
    ondertekend = any(instellingen.profiel_van(d.sleutel) == ONDERTEKEND for d in contract.diensten.values())
    try:
        if ondertekend:
            _ = proef.signer
        if ondertekend or instellingen.client_certificaat_vereist:
            _ = proef.trust_store
        _ = proef.sleutelbos
    except (ValueError, OSError) as fout:
        raise StartGeweigerd(f"refusing to serve: {_een_regel(fout)}{_hint(fout, instellingen)}") from None


def _een_regel(fout: BaseException) -> str:
    return " ".join(str(fout).split()) or type(fout).__name__


def _hint(fout: BaseException, instellingen: Settings) -> str:
    tekst = str(fout)
    if "demo CA" in tekst:
        return "; set vertrouwen_ca (and vertrouwen_crl) to the PKIoverheid CA files (deploy/README.md)"
    if isinstance(fout, FileNotFoundError) and instellingen.production:
        return "; check the file settings in the settings file (deploy/README.md)"
    if isinstance(fout, FileNotFoundError):
        return "; run 'vva init' first (it makes the keys and the demo PKI)"
    return ""
