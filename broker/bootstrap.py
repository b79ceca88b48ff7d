"""The composition root: builds the objects one process needs from its settings, each exactly once.

Settings, database, pupil-number keys and calendar; and the security objects — the broker's signer,
its trust store and the hardened zeep client — which the inbound pipeline, the outbox, ``vva client``,
``vva envelope`` and ``vva conformance`` are handed instead of building their own. Built in one place
because copies drift: the outbox once built its trust store without the production flag, and so in
production accepted receivers' answers signed under a demo CA or by a test OIN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from broker.config import Settings, load_settings
from broker.db.engine import make_engine, make_session_factory
from broker.domain.cycle import Calendar
from broker.privacy.keys import ReloadableKeyring

if TYPE_CHECKING:  # imported where used: most commands need none of them, and zeep is slow to import
    import requests
    import zeep

    from broker.edukoppeling.trust_store import TrustStore
    from broker.edukoppeling.wss.signer import Signer


@dataclass
class Runtime:
    """Everything a command or the web application needs, built lazily from ``settings``."""

    settings: Settings

    @classmethod
    def load(cls, config_path: str | None = None, *, files_must_exist: bool = True) -> Runtime:
        """The environment for the settings file ``config_path`` (see ``broker.config.load_settings``)."""
        return cls(load_settings(config_path, files_must_exist=files_must_exist))

    def close(self) -> None:
        """Close pooled database connections, if any were opened (never creates an engine)."""
        if "engine" in vars(self):
            self.engine.dispose()

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def keyring(self) -> ReloadableKeyring:
        return ReloadableKeyring(self.settings.key_file)

    @cached_property
    def calendar(self) -> Calendar:
        return self.settings.calendar()

    # --- security objects -------------------------------------------------------------------------

    @cached_property
    def signer(self) -> Signer:
        """The broker's signer: its key and certificate (``onderteken_*``, default the demo PKI's)."""
        return build_signer(self.settings.broker_key, self.settings.broker_certificate)

    @cached_property
    def trust_store(self) -> TrustStore:
        """The broker's trust store: the configured CAs and CRLs under this installation's rules.
        Raises ``ValueError``/``OSError`` on a missing CRL (fail closed, O6) or, in production, a demo CA."""
        return self.trust_store_of(self.settings.ca_files, self.settings.crl_files)

    def trust_store_of(self, ca_files: Sequence[Path], crl_files: Sequence[Path]) -> TrustStore:
        """A trust store of other CA and CRL files (a tool's ``--trust``/``--ca`` and ``--crl``) under
        this installation's rules: in production no demo CA and no test OIN; the configured CRL grace."""
        from broker.edukoppeling.trust_store import TrustStore

        return TrustStore(
            list(ca_files),
            list(crl_files),
            crl_grace_s=self.settings.crl_grace_s,
            production=self.settings.production,
        )


def build_signer(key_file: Path, certificate_file: Path) -> Signer:
    """A signer (profile 2W-be-S) of the PEM key and certificate in these files."""
    from broker.edukoppeling.wss.signer import Signer

    return Signer.from_files(key_file, certificate_file)


def hardened_session(
    ca_bundle: Path | None, client_certificate: tuple[Path, Path] | None
) -> requests.Session:
    """A requests session for signed traffic: no proxy or CA bundle from the environment (they would
    override ``verify``), no redirects (a peer never sends a message elsewhere: no SSRF by redirect),
    ``ca_bundle`` to verify the server (None: the system's), and the two-way TLS certificate and key."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.max_redirects = 0
    if ca_bundle is not None:
        session.verify = str(ca_bundle)
    if client_certificate is not None:
        session.cert = (str(client_certificate[0]), str(client_certificate[1]))
    return session


def hardened_zeep_client(wsdl: Path, *, transport, wsse, plugins: list) -> zeep.Client:
    """A zeep client of a local WSDL that validates strictly and never expands a DTD or an entity, nor
    fetches anything from outside (docs/rules.md, known weaknesses of zeep: "loads WSDL/XSD from local files only")."""
    import zeep

    return zeep.Client(
        str(wsdl),
        settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True),
        transport=transport,
        wsse=wsse,
        plugins=plugins,
    )
