"""``vva keys …``: rotate the encryption key without downtime, show key usage, retire unused keys."""

from __future__ import annotations

import time

import click

from broker.audit.trail import OPERATOR, AuditEvent, record_event
from broker.db.migrate import upgrade
from broker.privacy import rotation
from broker.privacy.keys import add_key, load_keyring, remove_keys

#: How long the key file must be unchanged before ``retire`` drops a key: longer than any transaction
#: that may still commit a ciphertext made under the previous current key (plus the 1 s reload).
IDLE_S = 15 * 60


@click.group()
def keys() -> None:
    """The keys that protect every BSN: rotate, status, retire (see README "Privacy")."""


@keys.command("rotate")
@click.pass_obj
def rotate(runtime) -> None:
    """Add a new encryption key, make it current, and re-encrypt everything stored under older keys.

    Safe while the broker and the outbox workers run: they pick up the new key within a second and can
    read both old and new ciphertexts throughout. The matching key (HMAC) is not rotated: pseudonyms
    stay stable within and across cycles. Run 'vva keys retire' afterwards to drop unused keys.
    """
    upgrade(runtime.engine)
    path = runtime.settings.key_file
    new = add_key(path)
    click.echo(f"keys: key {new} added to {path} and made current")
    keyring = load_keyring(path)
    with runtime.sessions() as session:
        total = rotation.to_reencrypt(session, keyring.aes_current)
    with click.progressbar(length=total, label="re-encrypting", file=None) as bar:
        per_table = rotation.reencrypt(runtime.sessions, keyring, bar.update)
    aantal = sum(per_table.values())
    with runtime.sessions.begin() as session:
        record_event(session, AuditEvent(OPERATOR, "vva keys rotate", "verwerkt", record_count=aantal))
    for table, rows in per_table.items():
        click.echo(f"  {table:18} {rows} re-encrypted")
    click.echo(f"keys: {aantal} ciphertexts now under key {new}; run 'vva keys retire' to drop old keys")


@keys.command("status")
@click.pass_obj
def status(runtime) -> None:
    """List the encryption keys, which one is current, and how many ciphertexts each protects."""
    upgrade(runtime.engine)
    keyring = load_keyring(runtime.settings.key_file)
    with runtime.sessions() as session:
        usage = rotation.usage(session)
    for key in sorted(keyring.aes_keys):
        current = " (current)" if key == keyring.aes_current else ""
        click.echo(f"key {key}{current}: {usage.get(key, 0)} ciphertexts")
    unknown = set(usage) - set(keyring.aes_keys)
    if unknown:
        click.echo(f"WARNING: ciphertexts under unknown key ids {sorted(unknown)}", err=True)
        raise SystemExit(1)


@keys.command("retire")
@click.pass_obj
def retire(runtime) -> None:
    """Remove every non-current key that no stored ciphertext uses any more; keys still in use stay.

    Refused (nothing removed) until the key file has been unchanged for 15 minutes after a rotation.
    """
    upgrade(runtime.engine)
    path = runtime.settings.key_file
    keyring = load_keyring(path)
    rest = time.time() - path.stat().st_mtime
    if rest < IDLE_S:
        # A process rereads the key file at most once a second, and a transaction that encrypted under
        # the previous key before it did may commit later still: its ciphertext cannot be counted yet.
        click.echo(
            f"keys: retired none; current key {keyring.aes_current}. The key file changed {rest:.0f} s ago: "
            f"run retire again once it has been unchanged for {IDLE_S // 60} minutes"
        )
        return
    with runtime.sessions() as session:
        usage = rotation.usage(session)
    retired = sorted(k for k in keyring.aes_keys if k != keyring.aes_current and not usage.get(k))
    stays = sorted(k for k in keyring.aes_keys if k != keyring.aes_current and usage.get(k))
    if retired:
        retired = remove_keys(path, retired)
    click.echo(f"keys: retired {retired or 'none'}; current key {keyring.aes_current}")
    if stays:
        click.echo(f"keys still in use, kept: {stays} (run 'vva keys rotate' again to re-encrypt them)")
