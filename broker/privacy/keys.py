"""Keys that pseudonymise and encrypt pupil numbers (BSN / onderwijsnummer).

A pupil number is stored twice, never in clear text (AVG art. 25 and 32):
- ``pseudonym``: HMAC-SHA256 under the matching key, hex — equal numbers match, and the hash says
  nothing without the key;
- ``encrypt``: AES-256-GCM under the current encryption key, the key id in front so that older
  ciphertexts stay readable after a key rotation.

The key file is JSON: ``{"hmac": "<base64 32 bytes>", "aes": {"<id>": "<base64 32 bytes>"},
"aes_huidig": "<id>"}``; ``make_key_file`` writes a new one with mode 0600.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from broker.domain.identifiers import Leerlingnummer
from broker.errors import BrokerError

_NONCE_BYTES = 12
_KEY_ID_BYTES = 1
_AAD = b"vva-leerlingnummer-v1"
_AAD_DATA = b"vva-persoonsgegevens-v1"


class KeyringError(BrokerError):
    """The key file is missing, malformed, or a ciphertext was made under an unknown key."""


@dataclass(frozen=True)
class Keyring:
    """The matching key and the encryption keys (by one-byte id) of one installation."""

    hmac_key: bytes
    aes_keys: dict[int, bytes]
    aes_current: int

    def pseudonym(self, nummer: Leerlingnummer) -> str:
        """HMAC-SHA256 of ``nummer.sleutel`` as 64 hex characters (the matching key of a pupil)."""
        return hmac.new(self.hmac_key, nummer.sleutel.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, nummer: Leerlingnummer) -> bytes:
        """AES-256-GCM ciphertext of ``nummer`` as ``key id (1) || nonce (12) || ciphertext+tag``."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.aes_keys[self.aes_current]).encrypt(nonce, nummer.sleutel.encode(), _AAD)
        return bytes([self.aes_current]) + nonce + sealed

    def encrypt_data(self, data: bytes) -> bytes:
        """AES-256-GCM ciphertext of any bytes holding pupil data (e.g. a push waiting in the outbox),
        in the same form as ``encrypt``, bound to another purpose so the two never mix."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.aes_keys[self.aes_current]).encrypt(nonce, data, _AAD_DATA)
        return bytes([self.aes_current]) + nonce + sealed

    def decrypt_data(self, blob: bytes) -> bytes:
        """The bytes inside a ``encrypt_data`` blob; ``KeyringError`` if unknown key or altered."""
        key = self.aes_keys.get(blob[0])
        if key is None:
            raise KeyringError(f"ciphertext made under unknown key id {blob[0]}")
        try:
            return AESGCM(key).decrypt(blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :], _AAD_DATA)
        except Exception as exc:  # InvalidTag
            raise KeyringError("ciphertext does not authenticate") from exc

    def decrypt(self, blob: bytes) -> Leerlingnummer:
        """The pupil number inside ``blob``; ``KeyringError`` if the key id is unknown or it was altered."""
        key_id, nonce, sealed = blob[0], blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        key = self.aes_keys.get(key_id)
        if key is None:
            raise KeyringError(f"ciphertext made under unknown key id {key_id}")
        try:
            plain = AESGCM(key).decrypt(nonce, sealed, _AAD).decode()
        except Exception as exc:  # InvalidTag: tampered or wrong key; say nothing about content
            raise KeyringError("ciphertext does not authenticate") from exc
        soort, _, waarde = plain.partition(":")
        return Leerlingnummer(soort=soort, waarde=waarde)


def make_key_file(path: Path) -> None:
    """Write a fresh key file at ``path`` (mode 0600); refuses to overwrite an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {
        "hmac": base64.b64encode(secrets.token_bytes(32)).decode(),
        "aes": {"1": base64.b64encode(secrets.token_bytes(32)).decode()},
        "aes_huidig": "1",
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)


def load_keyring(path: Path) -> Keyring:
    """Read the key file at ``path``; ``KeyringError`` when it is missing or malformed."""
    try:
        raw = json.loads(Path(path).read_text())
        aes = {int(k): base64.b64decode(v) for k, v in raw["aes"].items()}
        keyring = Keyring(base64.b64decode(raw["hmac"]), aes, int(raw["aes_huidig"]))
    except FileNotFoundError as exc:
        raise KeyringError(f"key file {path} not found: run 'vva init' first") from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise KeyringError(f"key file {path} is malformed") from exc
    if len(keyring.hmac_key) != 32 or any(len(k) != 32 for k in aes.values()) or keyring.aes_current not in aes:
        raise KeyringError(f"key file {path} is malformed")
    return keyring


def add_key(path: Path) -> int:
    """Add a fresh AES-256 key to the key file at ``path`` and make it current; returns its id.

    The matching (HMAC) key and the older encryption keys stay, so every ciphertext stays readable
    while ``broker.privacy.rotation`` re-encrypts. The file is replaced atomically (mode 0600), so a
    process reading it meanwhile sees the old or the new file, never half of one.
    Raises ``KeyringError`` when the file is unreadable or all 255 key ids are used.
    """
    with _locked(path):
        keyring = load_keyring(path)
        new = max(keyring.aes_keys) + 1
        if new > 255:
            raise KeyringError("all 255 key ids are used: retire old keys first ('vva keys retire')")
        write_keyring(
            path, Keyring(keyring.hmac_key, {**keyring.aes_keys, new: secrets.token_bytes(32)}, new)
        )
    return new


def remove_keys(path: Path, retired: Iterable[int]) -> list[int]:
    """Remove the encryption keys ``retired`` from the key file at ``path``, never the current one; returns
    the ids removed. Reads the file afresh under the same lock as ``add_key``, so a key added
    meanwhile (a concurrent rotation) is kept. Raises ``KeyringError`` when the file is unreadable."""
    with _locked(path):
        keyring = load_keyring(path)
        removed = sorted(set(retired) & set(keyring.aes_keys) - {keyring.aes_current})
        if removed:
            keys = {k: v for k, v in keyring.aes_keys.items() if k not in removed}
            write_keyring(path, Keyring(keyring.hmac_key, keys, keyring.aes_current))
    return removed


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Read-modify-write of the key file by two commands at once would let the last writer drop the
    # other's new key, and with it everything encrypted under it: one at a time (a lock file beside it,
    # as the key file itself is replaced by rename).
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_keyring(path: Path, keyring: Keyring) -> None:
    """Write ``keyring`` to ``path`` atomically (a temporary file with mode 0600, then rename). A file being
    replaced keeps its owner, group and owner/group permissions (never any for others): the broker's
    service account may read it through its group, also after an operator rotated the key."""
    content = {
        "hmac": base64.b64encode(keyring.hmac_key).decode(),
        "aes": {str(k): base64.b64encode(v).decode() for k, v in sorted(keyring.aes_keys.items())},
        "aes_huidig": str(keyring.aes_current),
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)
    if path.exists():
        old = path.stat()
        os.chmod(temporary, old.st_mode & 0o770)
        try:
            os.chown(temporary, old.st_uid, old.st_gid)
        except PermissionError:
            pass  # not root: owner and group are the writer's; the mode is carried over
    os.replace(temporary, path)


class ReloadableKeyring:
    """The key file of a running process, re-read when it changed (checked at most once a second).

    ``vva keys rotate`` adds a key while brokers and workers run: they pick it up within a second for
    new ciphertexts, and at once when they meet a ciphertext under a key id they do not know yet, so a
    rotation needs no restart. Same interface as ``Keyring``.
    """

    def __init__(self, path: Path) -> None:
        self._pad = Path(path)
        self._keyring = load_keyring(self._pad)
        self._stamp = self._read_stamp()
        self._checked_at = time.monotonic()

    def _read_stamp(self) -> tuple[int, int]:
        stat = self._pad.stat()
        return stat.st_mtime_ns, stat.st_ino

    def _current(self, force: bool = False) -> Keyring:
        now = time.monotonic()
        if force or now - self._checked_at >= 1.0:
            self._checked_at = now
            try:
                stamp = self._read_stamp()
                if stamp != self._stamp:
                    self._keyring, self._stamp = load_keyring(self._pad), stamp
            except (OSError, KeyringError):
                pass  # a file being replaced: keep the keys we have, try again next time
        return self._keyring

    @property
    def hmac_key(self) -> bytes:
        return self._current().hmac_key

    @property
    def aes_keys(self) -> dict[int, bytes]:
        return self._current().aes_keys

    @property
    def aes_current(self) -> int:
        return self._current().aes_current

    def pseudonym(self, nummer: Leerlingnummer) -> str:
        return self._current().pseudonym(nummer)

    def encrypt(self, nummer: Leerlingnummer) -> bytes:
        return self._current().encrypt(nummer)

    def encrypt_data(self, data: bytes) -> bytes:
        return self._current().encrypt_data(data)

    def decrypt(self, blob: bytes) -> Leerlingnummer:
        return self._with_reload(lambda keyring: keyring.decrypt(blob), blob)

    def decrypt_data(self, blob: bytes) -> bytes:
        return self._with_reload(lambda keyring: keyring.decrypt_data(blob), blob)

    def _with_reload(self, action, blob: bytes):
        keyring = self._current()
        if blob and blob[0] not in keyring.aes_keys:
            keyring = self._current(force=True)  # made under a key added since we last looked
        return action(keyring)
