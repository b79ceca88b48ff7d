"""Supervision of the delivery workers of ``vva outbox run --workers N``.

The parent process starts N workers and waits on them. A worker that dies (killed, crashed, OOM) is
reaped at once — no zombie — logged, and replaced, so the queue keeps N workers. When workers keep
dying in a tight loop (a bad key, a database that refuses every connection) replacing them is futile:
the parent stops the others and exits non-zero, so that systemd (``Restart=always``) restarts the
unit after its ``RestartSec`` and the failure shows in ``systemctl status``.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import wait

log = logging.getLogger("vva.outbox")

#: More deaths than this within ``VENSTER_S`` seconds is a tight loop: give up.
MAX_DODEN = 5
VENSTER_S = 60.0
#: A replacement starts no sooner than this after a death (no fork storm while a cause persists).
HERSTART_PAUZE_S = 0.5


class Supervisor:
    """Runs ``doel(*args)`` in ``aantal`` processes, replacing those that die. ``tot_leeg``: a worker
    that ends with exit code 0 is done (nothing left to deliver) and is not replaced."""

    def __init__(self, aantal: int, doel: Callable, args: tuple = (), tot_leeg: bool = False) -> None:
        self.aantal, self.doel, self.args, self.tot_leeg = aantal, doel, args, tot_leeg
        self.werkers: list[multiprocessing.Process] = []
        self._doden: deque[float] = deque()
        self._stoppen = False

    def run(self) -> int:
        """Supervise until stopped (SIGTERM/SIGINT: exit code 0) or every worker is done
        (``tot_leeg``); returns 1 when workers died in a tight loop."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.aantal):
            self._start()
        while self.werkers:
            klaar = wait([p.sentinel for p in self.werkers], timeout=1.0)
            for proces in [p for p in self.werkers if p.sentinel in klaar]:
                proces.join()  # reaps it: no zombie
                self.werkers.remove(proces)
                if self._stoppen or (self.tot_leeg and proces.exitcode == 0):
                    continue
                oorzaak = f"outbox worker {proces.pid} died ({_cause(proces.exitcode)})"
                if self._tight_loop():
                    log.critical(
                        "%s; workers died %d times within %.0f s: stopping, for the supervisor to restart",
                        oorzaak,
                        len(self._doden),
                        VENSTER_S,
                    )
                    self._stop()
                    self._wait_for_all()
                    return 1
                log.error("%s; starting a replacement", oorzaak)
                time.sleep(HERSTART_PAUZE_S)
                if not self._stoppen:
                    self._start()
        return 0

    def _start(self) -> None:
        proces = multiprocessing.Process(target=self.doel, args=self.args)
        proces.start()
        self.werkers.append(proces)

    def _tight_loop(self) -> bool:
        nu = time.monotonic()
        self._doden.append(nu)
        while self._doden and self._doden[0] < nu - VENSTER_S:
            self._doden.popleft()
        return len(self._doden) > MAX_DODEN

    def _stop(self, *_) -> None:
        """Pass a stop on to the workers: each finishes the push in hand (SIGTERM)."""
        self._stoppen = True
        for proces in self.werkers:
            if proces.is_alive():
                proces.terminate()

    def _wait_for_all(self) -> None:
        for proces in self.werkers:
            proces.join()
        self.werkers.clear()


def _cause(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"
