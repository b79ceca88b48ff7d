"""``vva receiver list`` and ``vva receiver show`` after real pushes from a running broker to a
running reference receiver (issue 20, item 3): the vendor sees what the broker sent, decrypted with
the receiver's own key, pupil numbers only with ``--show-numbers``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta

from tests.e2e.test_pushes import SCHOOL_A, _delivery_worker, leerlingen, running_chain
from tests.e2e.zeepclient import client


def _vva(config, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "broker", *args],
        env={**os.environ, "VVA_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_list_and_content_of_what_the_receiver_got(database_url, tmp_path):
    with running_chain(database_url, tmp_path) as chain:
        receiver_config = tmp_path / "ontvanger" / "vva.toml"
        empty = _vva(receiver_config, "receiver", "list")
        assert (empty.returncode, empty.stdout) == (0, "nothing received yet\n")

        demo = type("Demo", (), {"url": chain.broker_url, "pki": chain.pki})
        (leerling,) = leerlingen(1)
        assert (
            client(demo, "vo", SCHOOL_A).service.aanleverenLeerlingen(leerling=[leerling]).aantalVerwerkt == 1
        )
        assert _delivery_worker(chain).run_round() == 1

        list_ = _vva(receiver_config, "receiver", "list")
        assert list_.returncode == 0, list_.stderr
        (line,) = list_.stdout.splitlines()
        number, _date, _time, sender, operatie, message_id, outcome = line.split(" ")
        assert (sender, operatie, outcome) == ("00000099000000000001", "ontvangenWijziging", "verwerkt")
        assert message_id.startswith("urn:uuid:")
        assert leerling["bsn"] not in list_.stdout

        show = _vva(receiver_config, "receiver", "show", number.removeprefix("#"))
        assert show.returncode == 0, show.stderr
        assert f"MessageID   {message_id}" in show.stdout
        assert "from        00000099000000000001 (certificate 00000099000000000001)" in show.stdout
        assert "outcome     verwerkt" in show.stdout
        assert '<ns0:ontvangenWijziging xmlns:ns0="urn:nl:vva:aanmelden:v1">' in show.stdout
        # The change's time in UTC with its offset, on SQLite (naive in the database) as on PostgreSQL.
        moment_ = re.search(r"<ns0:tijdstip>([^<]+)</ns0:tijdstip>", show.stdout).group(1)
        assert datetime.fromisoformat(moment_).utcoffset() == timedelta(0), moment_
        assert ">*********</" in show.stdout and leerling["bsn"] not in show.stdout
        # The Body as it came over the wire, decrypted with the receiver's key file.
        assert chain.pushes()[0].count(leerling["bsn"].encode()) >= 1

        with_numbers = _vva(receiver_config, "receiver", "show", number.removeprefix("#"), "--show-numbers")
        assert f">{leerling['bsn']}</" in with_numbers.stdout and "*********" not in with_numbers.stdout

        unknown = _vva(receiver_config, "receiver", "show", "999")
        assert unknown.returncode == 1
        assert unknown.stderr == "Error: no received message #999 (see vva receiver list)\n"
