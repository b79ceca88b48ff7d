"""Settings of one broker installation.

Read once at start-up from a TOML file (``VVA_CONFIG``, default ``./vva.toml`` when it exists)
with environment overrides (``VVA_DATABASE_URL``, ``VVA_KEY_FILE``). Nothing here is read
per request.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

#: The broker's OIN in the test environment (test prefix 00000099, edukoppeling.md §0).
TEST_BROKER_OIN = "00000099000000000001"

DEFAULT_DATA_DIR = Path("var")


@dataclass(frozen=True)
class Settings:
    """One installation's settings.

    ``database_url`` is an SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``);
    ``broker_oins`` are the OINs the broker answers for in wsa:To (Edukoppeling A3);
    ``environment`` is ``test`` or ``production`` (test OINs are refused in production);
    ``key_file`` holds the keys that pseudonymise and encrypt pupil numbers;
    ``max_request_bytes`` caps a request body (hostile-inputs.md, "Request body");
    ``deadline_afwijkingen`` maps a cycle year to a deadline other than 1 April.
    """

    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'vva.sqlite3'}"
    broker_oins: tuple[str, ...] = (TEST_BROKER_OIN,)
    environment: str = "test"
    key_file: Path = DEFAULT_DATA_DIR / "sleutels.json"
    max_request_bytes: int = 10 * 1024 * 1024
    max_batch_records: int = 5000
    deadline_afwijkingen: dict[int, str] = field(default_factory=lambda: {2020: "2020-05-01"})

    @property
    def broker_oin(self) -> str:
        """The OIN the broker signs and answers with (the first configured one)."""
        return self.broker_oins[0]


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Build the settings from ``path`` (or ``VVA_CONFIG``, or ``./vva.toml``) and the environment.

    Raises ``FileNotFoundError`` when an explicitly named file is missing and ``ValueError`` on
    an unknown key, so a typo in an operator's file never passes silently.
    """
    settings = Settings()
    explicit = path or os.environ.get("VVA_CONFIG")
    file = Path(explicit) if explicit else Path("vva.toml")
    if explicit or file.exists():
        settings = _apply_file(settings, file)
    if url := os.environ.get("VVA_DATABASE_URL"):
        settings = replace(settings, database_url=url)
    if key_file := os.environ.get("VVA_KEY_FILE"):
        settings = replace(settings, key_file=Path(key_file))
    return settings


def _apply_file(settings: Settings, file: Path) -> Settings:
    with file.open("rb") as handle:
        raw = tomllib.load(handle)
    known = set(Settings.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"{file}: unknown setting(s): {', '.join(sorted(unknown))}")
    if "broker_oins" in raw:
        raw["broker_oins"] = tuple(raw["broker_oins"])
    if "key_file" in raw:
        raw["key_file"] = Path(raw["key_file"])
    if "deadline_afwijkingen" in raw:
        raw["deadline_afwijkingen"] = {int(k): v for k, v in raw["deadline_afwijkingen"].items()}
    return replace(settings, **raw)
