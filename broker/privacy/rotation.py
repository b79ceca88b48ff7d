"""Re-encrypting every stored pupil number and message under the current key (``vva keys rotate``).

Runs beside a live broker: rows are re-encrypted in small transactions, each row only if it still
holds the ciphertext that was read (compare-and-set), so a row a request changed meanwhile is left to
the next pass instead of being overwritten with stale content. Key ids are the first byte of every
ciphertext (``broker.privacy.keys``), so usage per key is counted without decrypting anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from broker.db import models
from broker.privacy.keys import Keyring

_BATCH = 1_000


@dataclass(frozen=True)
class EncryptedColumn:
    """An encrypted column: ``soort`` "nummer" (a pupil number) or "data" (a message, a push)."""

    model: type
    name: str
    kind: str

    @property
    def column(self):
        return getattr(self.model, self.name)

    @property
    def primary_key(self):
        return next(iter(self.model.__table__.primary_key.columns))

    def encrypted(self):
        conditions = [self.column.is_not(None), func.length(self.column) > 0]
        if self.model is models.Bericht:
            conditions.append(models.Bericht.versleuteld.is_(True))
        return conditions


ENCRYPTED_COLUMNS = (
    EncryptedColumn(models.Leerling, "nummer_versleuteld", "nummer"),
    EncryptedColumn(models.Aanmelding, "nummer_versleuteld", "nummer"),
    EncryptedColumn(models.Signaal, "nummer_versleuteld", "nummer"),
    EncryptedColumn(models.Bericht, "inhoud", "data"),
    EncryptedColumn(models.OutboxMessage, "content", "data"),
)


def usage(session: Session) -> Counter[int]:
    """How many stored ciphertexts each key id protects, over every encrypted column (counted in the
    database from the first byte: messages of megabytes are not read)."""
    counter: Counter[int] = Counter()
    for column in ENCRYPTED_COLUMNS:
        key_id = _key_id(column)
        query = select(key_id, func.count()).where(*column.encrypted()).group_by(key_id)
        for first, total in session.execute(query):
            counter[bytes(first)[0]] += total
    return counter


def _key_id(column: EncryptedColumn):
    # The key id is the ciphertext's first byte (``broker.privacy.keys``).
    return func.substr(column.column, 1, 1)


def to_reencrypt(session: Session, current: int) -> int:
    """How many ciphertexts are not under key ``current`` (for a progress bar)."""
    return sum(count for key, count in usage(session).items() if key != current)


def reencrypt(
    sessions: sessionmaker[Session], keyring: Keyring, progress: Callable[[int], None] = lambda _: None
) -> dict[str, int]:
    """Re-encrypt every ciphertext not under ``bos.aes_current``; returns rows rewritten per table.

    ``progress`` is called with the number of rows handled after each piece. Raises ``KeyringError``
    when a ciphertext was made under a key ``keyring`` does not have (nothing of that piece is written).
    """
    uitkomst: dict[str, int] = {}
    for column in ENCRYPTED_COLUMNS:
        rewritten, after = 0, None
        while True:
            with sessions.begin() as session:
                query = select(column.primary_key, _key_id(column)).where(*column.encrypted())
                if after is not None:
                    query = query.where(column.primary_key > after)
                rows = session.execute(query.order_by(column.primary_key).limit(_BATCH)).all()
                if not rows:
                    break
                for row_key, first in rows:
                    if bytes(first)[0] == keyring.aes_current:
                        continue
                    # One ciphertext in memory at a time: a message can be megabytes.
                    blob = session.scalar(select(column.column).where(column.primary_key == row_key))
                    if blob is None or blob[0] == keyring.aes_current:
                        continue  # deleted or re-encrypted by a request since the piece was read
                    new = _reencrypt(keyring, column.kind, blob)
                    result = session.execute(
                        update(column.model)
                        .where(column.primary_key == row_key, column.column == blob)
                        .values({column.name: new})
                    )
                    rewritten += result.rowcount
                after = rows[-1][0]
            progress(len(rows))
        uitkomst[column.model.__tablename__] = rewritten
    return uitkomst


def _reencrypt(keyring: Keyring, kind: str, blob: bytes) -> bytes:
    if kind == "nummer":
        return keyring.encrypt(keyring.decrypt(blob))
    return keyring.encrypt_data(keyring.decrypt_data(blob))
