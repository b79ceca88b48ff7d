"""``vva keys rotate``: every ciphertext is re-encrypted under the new key, stays readable throughout,
and a running process picks the new key up without a restart (issue 5, "BSN at rest")."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import select

from broker.cli import main
from broker.db import models
from broker.db.engine import make_engine, make_session_factory
from broker.db.message_log import log_received, read_content
from broker.privacy import rotation
from broker.privacy.keys import (
    ReloadableKeyring,
    add_key,
    load_keyring,
    make_key_file,
)
from broker.service.leerlingen import aanleveren_leerlingen
from tests.service.test_use_cases import P1, P2, P3, SCHOOL_A, leerling


def test_rotate_reencrypts_everything_and_stays_readable(demo_session, processing, call, tmp_path):
    path = tmp_path / "keys.json"
    running = ReloadableKeyring(path)  # a broker process that was running before the rotation
    aanleveren_leerlingen(processing, call(SCHOOL_A), [leerling(1, P1), leerling(2, P2), leerling(3, P3)])
    demo_session.commit()
    sessions = make_session_factory(demo_session.get_bind())
    bericht_id = log_received(sessions, f"<bericht>{P1}</bericht>".encode(), "vo", running)
    with sessions() as session:
        assert rotation.usage(session) == Counter({1: 4})

    assert add_key(path) == 2
    reloaded = load_keyring(path)
    assert (sorted(reloaded.aes_keys), reloaded.aes_current) == ([1, 2], 2)
    assert rotation.reencrypt(sessions, reloaded) == {
        "leerling": 3,
        "aanmelding": 0,
        "signaal": 0,
        "bericht": 1,
        "outbox_message": 0,
    }
    with sessions() as session:
        assert rotation.usage(session) == Counter({2: 4})
        numbers = session.scalars(select(models.Leerling.nummer_versleuteld)).all()
        # The process that started before the rotation reads the new ciphertexts at once.
        assert sorted(running.decrypt(n).waarde for n in numbers) == sorted([P1, P2, P3])
        assert (
            read_content(session.get(models.Bericht, bericht_id), running)
            == f"<bericht>{P1}</bericht>".encode()
        )
    # A second pass has nothing left to do.
    assert sum(rotation.reencrypt(sessions, reloaded).values()) == 0


def test_keys_commands_for_the_operator(tmp_path, database_url):
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "init"]).exit_code == 0
    run = lambda *args: runner.invoke(main, ["--config", str(config), "keys", *args])  # noqa: E731
    output = run("rotate")
    assert output.exit_code == 0, output.output
    assert "key 2 added" in output.output
    assert run("status").output.splitlines() == ["key 1: 0 ciphertexts", "key 2 (current): 0 ciphertexts"]
    assert "retired none" in run("retire").output  # too soon after the rotation
    old = time.time() - 3600
    os.utime(tmp_path / "keys.json", (old, old))
    assert "retired [1]" in run("retire").output
    assert run("status").output.splitlines() == ["key 2 (current): 0 ciphertexts"]
    # The rotation is in the audit trail, which still verifies.
    verify = runner.invoke(main, ["--config", str(config), "audit", "verify"])
    assert verify.output.startswith("audit trail intact: 1 records; head 1:")


def test_retire_right_after_rotate_keeps_a_running_writer_readable(tmp_path, database_url):
    """A broker process still on the old key (it rereads the key file at most once a second) or a
    transaction that encrypted before the rotation and commits later writes a ciphertext under the old
    key that ``retire`` cannot count yet: dropping that key right away makes the row unreadable forever."""
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    vva = lambda *args: runner.invoke(main, ["--config", str(config), *args])  # noqa: E731
    assert vva("init", "--no-demo").exit_code == 0
    path = tmp_path / "keys.json"
    running = ReloadableKeyring(path)  # a running broker process, that just looked at the key file
    engine = make_engine(str(database_url))
    try:
        sessions = make_session_factory(engine)
        with sessions.begin() as session:  # a request in flight across the rotation
            row = models.Bericht(
                richting="in",
                uitkomst="ontvangen",
                tijdstip=datetime.now(UTC),
                inhoud=running.encrypt_data(f"<bericht>{P1}</bericht>".encode()),
                versleuteld=True,
            )
            assert vva("keys", "rotate").exit_code == 0
            retire = vva("keys", "retire")
            assert retire.exit_code == 0, retire.output
            session.add(row)
        with sessions() as session:
            blob = session.scalar(select(models.Bericht.inhoud))
        assert load_keyring(path).decrypt_data(blob) == f"<bericht>{P1}</bericht>".encode()
        assert "retired none" in retire.output
        # Once the key file has been at rest long enough, a second rotate and retire drop the old key.
        assert vva("keys", "rotate").exit_code == 0
        old = time.time() - 3600
        os.utime(path, (old, old))
        assert "retired [1, 2]" in vva("keys", "retire").output
    finally:
        engine.dispose()


def test_retire_during_a_rotate_does_not_discard_the_new_key(tmp_path, database_url, monkeypatch):
    """``retire`` counts key usage over every table (minutes on a full database) between reading and
    writing the key file: a ``rotate`` that adds a key meanwhile must not see that key written away
    again, or everything it re-encrypts becomes unreadable."""
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "init", "--no-demo"]).exit_code == 0
    path = tmp_path / "keys.json"
    assert add_key(path) == 2
    old = time.time() - 3600
    os.utime(path, (old, old))
    real_count = rotation.usage

    def count_with_rotate_in_between(session):
        outcome = real_count(session)
        assert add_key(path) == 3  # another operator's rotate, while this retire counts
        return outcome

    monkeypatch.setattr(rotation, "usage", count_with_rotate_in_between)
    output = runner.invoke(main, ["--config", str(config), "keys", "retire"])
    assert output.exit_code == 0, output.output
    reloaded = load_keyring(path)
    assert (sorted(reloaded.aes_keys), reloaded.aes_current) == ([2, 3], 3)


def test_rotate_keeps_the_permissions_of_the_key_file(tmp_path):
    """The broker's service account reads the key file through its group (mode 0640): a rotation run by
    an operator must not replace it with a file only the operator can read, or every running broker
    loses the new key and every restarted one fails to start."""
    path = tmp_path / "keys.json"
    make_key_file(path)
    os.chmod(path, 0o640)
    before = path.stat()
    add_key(path)
    after = path.stat()
    assert (oct(after.st_mode & 0o777), after.st_uid, after.st_gid) == ("0o640", before.st_uid, before.st_gid)
    os.chmod(path, 0o644)  # readable by everyone: not carried over, the key file never becomes so
    add_key(path)
    assert oct(path.stat().st_mode & 0o777) == "0o640"
