"""Fixtures for the reference-data tests: the real DUO files, and a fresh database on SQLite and PostgreSQL.

The real DUO open data live outside the repository, in ``shared/data/duo-open-data`` beside the clone
(``VVA_DUO_DATA`` overrides); tests that need them skip with the reason when the folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.orm import Session


def duo_data_dir() -> Path | None:
    """The folder with the real DUO files, or None.

    ``$VVA_DUO_DATA`` first, else ``<folder holding the clone>/shared/data/duo-open-data``.
    """
    candidates = [Path(p) for p in [os.environ.get("VVA_DUO_DATA")] if p]
    if os.environ.get("VVA_SHARED"):
        candidates.append(Path(os.environ["VVA_SHARED"]) / "data" / "duo-open-data")
    # tests/refdata/conftest.py -> parents[2] is the clone, parents[3] the folder that holds it.
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data" / "duo-open-data")
    return next((p for p in candidates if p.is_dir()), None)


@pytest.fixture
def duo_dir() -> Path:
    folder = duo_data_dir()
    if folder is None:
        pytest.skip(
            "real DUO open data not found: set VVA_SHARED (or VVA_DUO_DATA) or put shared/data/duo-open-data beside the clone"
        )
    return folder


@pytest.fixture
def vo_file(duo_dir: Path) -> Path:
    """The real DUO 'alle vestigingen VO' file (newer header generation, UTF-8, LF, ';')."""
    path = duo_dir / "alle-vestigingen-vo.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture
def refdata_session(db_session: Session) -> Session:
    """A session on a freshly migrated database: SQLite and PostgreSQL (tests/conftest.py)."""
    return db_session
