"""Wiring: builds the objects one process needs (settings, database, keys) exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from broker.config import Settings, load_settings
from broker.db.engine import make_engine, make_session_factory
from broker.domain.cycle import Kalender
from broker.privacy.sleutels import HerlaadbareSleutelbos


@dataclass
class Omgeving:
    """Everything a command or the web application needs, built lazily from ``settings``."""

    settings: Settings

    @classmethod
    def laad(cls, config_path: str | None = None, *, files_must_exist: bool = True) -> Omgeving:
        """The environment for the settings file ``config_path`` (see ``broker.config.load_settings``)."""
        return cls(load_settings(config_path, files_must_exist=files_must_exist))

    def sluit(self) -> None:
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
    def sleutelbos(self) -> HerlaadbareSleutelbos:
        return HerlaadbareSleutelbos(self.settings.key_file)

    @cached_property
    def kalender(self) -> Kalender:
        from datetime import date

        afwijkingen = {jaar: date.fromisoformat(d) for jaar, d in self.settings.deadline_afwijkingen.items()}
        return Kalender(afwijkingen=afwijkingen)
