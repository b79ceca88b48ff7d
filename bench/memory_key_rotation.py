"""Peak memory of ``vva keys status|retire`` (counting key use) and ``vva keys rotate`` (re-encrypting)
over a message log of large messages.

A production message log holds batches of thousands of pupils (megabytes each) and query answers of
a whole region; rotating the key must not need memory in proportion to a piece of a thousand of them.

Run: .venv/bin/python bench/memory_key_rotation.py [--n 200] [--mb 1]
Prints the peak Python heap (tracemalloc) while counting and while re-encrypting, on SQLite.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from broker.db import models
from broker.db.engine import make_engine, make_session_factory
from broker.db.migrate import upgrade
from broker.privacy import rotation
from broker.privacy.keys import add_key, load_keyring, make_key_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="messages in the log")
    parser.add_argument("--mb", type=float, default=1.0, help="size of each message in MB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "keys.json"
        make_key_file(path)
        keyring = load_keyring(path)
        engine = make_engine(f"sqlite:///{Path(folder) / 'vva.sqlite3'}")
        upgrade(engine)
        sessions = make_session_factory(engine)
        inhoud = os.urandom(int(args.mb * 1024 * 1024))
        for _ in range(args.n):
            with sessions.begin() as session:
                session.add(
                    models.Bericht(
                        richting="in",
                        uitkomst="verwerkt",
                        tijdstip=datetime.now(UTC),
                        inhoud=keyring.encrypt_data(inhoud),
                        versleuteld=True,
                    )
                )
        add_key(path)
        new = load_keyring(path)

        tracemalloc.start()
        with sessions() as session:
            rotation.usage(session)
        _, peak_counting = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        rotation.reencrypt(sessions, new)
        _, peak_rotating = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        engine.dispose()
    print(f"{args.n} messages of {args.mb} MB")
    print(f"counting key use (status, retire): peak {peak_counting / 2**20:8.1f} MB")
    print(f"re-encrypting (rotate):            peak {peak_rotating / 2**20:8.1f} MB")


if __name__ == "__main__":
    main()
