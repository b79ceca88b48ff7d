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

#: More deaths than this within ``WINDOW_S`` seconds is a tight loop: give up.
MAX_DEATHS = 5
WINDOW_S = 60.0
#: A replacement starts no sooner than this after a death (no fork storm while a cause persists).
RESTART_PAUSE_S = 0.5


class Supervisor:
    """Runs ``doel(*args)`` in ``aantal`` processes, replacing those that die. ``until_empty``: a worker
    that ends with exit code 0 is done (nothing left to deliver) and is not replaced."""

    def __init__(self, count: int, target: Callable, args: tuple = (), until_empty: bool = False) -> None:
        self.count, self.target, self.args, self.until_empty = count, target, args, until_empty
        self.workers: list[multiprocessing.Process] = []
        self._deaths: deque[float] = deque()
        self._stopping = False

    def run(self) -> int:
        """Supervise until stopped (SIGTERM/SIGINT: exit code 0) or every worker is done
        (``until_empty``); returns 1 when workers died in a tight loop."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.count):
            self._start()
        while self.workers:
            done = wait([p.sentinel for p in self.workers], timeout=1.0)
            for process in [p for p in self.workers if p.sentinel in done]:
                process.join()  # reaps it: no zombie
                self.workers.remove(process)
                if self._stopping or (self.until_empty and process.exitcode == 0):
                    continue
                cause = f"outbox worker {process.pid} died ({_cause(process.exitcode)})"
                if self._tight_loop():
                    log.critical(
                        "%s; workers died %d times within %.0f s: stopping, for the supervisor to restart",
                        cause,
                        len(self._deaths),
                        WINDOW_S,
                    )
                    self._stop()
                    self._wait_for_all()
                    return 1
                log.error("%s; starting a replacement", cause)
                time.sleep(RESTART_PAUSE_S)
                if not self._stopping:
                    self._start()
        return 0

    def _start(self) -> None:
        process = multiprocessing.Process(target=self.target, args=self.args)
        process.start()
        self.workers.append(process)

    def _tight_loop(self) -> bool:
        now = time.monotonic()
        self._deaths.append(now)
        while self._deaths and self._deaths[0] < now - WINDOW_S:
            self._deaths.popleft()
        return len(self._deaths) > MAX_DEATHS

    def _stop(self, *_) -> None:
        """Pass a stop on to the workers: each finishes the push in hand (SIGTERM)."""
        self._stopping = True
        for process in self.workers:
            if process.is_alive():
                process.terminate()

    def _wait_for_all(self) -> None:
        for process in self.workers:
            process.join()
        self.workers.clear()


def _cause(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"
