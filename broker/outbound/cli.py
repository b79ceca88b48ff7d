"""``vva outbox …`` for operators of the push queue."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from datetime import UTC, datetime

import click
from sqlalchemy import delete, func, select

from broker.db import models
from broker.db.migrate import upgrade
from broker.db.models import BEZIG, DOOD, WACHTEND
from broker.domain.identifiers import new_message_id


@click.group()
def outbox() -> None:
    """The push queue: deliver, inspect, retry, purge."""


@outbox.command("run")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Parallel workers (PostgreSQL only).",
)
@click.option(
    "--until-empty",
    "until_empty",
    is_flag=True,
    help="Stop when nothing is waiting (tests, catch-up); shows progress on a terminal and ends with "
    "a summary: delivered, retried, dead.",
)
@click.pass_obj
def run(runtime, workers: int, until_empty: bool) -> None:
    """Deliver queued pushes until stopped (SIGTERM/SIGINT) or, with --until-empty, until done."""
    try:
        # Built once, here, before any fork: a key or CRL that cannot be used, or a demo CA in
        # production, stops the command at once instead of every worker.
        _ = runtime.signer, runtime.trust_store
    except (ValueError, OSError) as error:
        raise click.ClickException(f"cannot deliver pushes: {error}") from None
    upgrade(runtime.engine)
    if workers > 1 and runtime.engine.dialect.name != "postgresql":
        click.echo("SQLite has one writer and no SKIP LOCKED: running one worker", err=True)
        workers = 1
    runtime.close()  # each worker opens its own connections after the fork
    with _progress(runtime.settings.database_url, enabled=until_empty and sys.stderr.isatty()):
        _deliver(runtime, workers, until_empty)


def _deliver(runtime, workers: int, until_empty: bool) -> None:
    if workers == 1:
        count = _worker(runtime, until_empty)
        if until_empty:
            _summary(count)
        return
    import multiprocessing

    from broker.outbound.delivery_queue import OUTCOMES
    from broker.outbound.supervisor import Supervisor

    # Dead workers are reaped and replaced; workers dying in a tight loop end us non-zero, for
    # systemd (Restart=always) to restart the unit.
    from broker.privacy.logfilter import protect_logger

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s")
    protect_logger(logging.getLogger())
    # The workers add their outcomes here as they end (forked processes share nothing else).
    shared = multiprocessing.Array("q", len(OUTCOMES))
    if Supervisor(workers, _worker, (runtime, until_empty, shared), until_empty=until_empty).run():
        raise SystemExit(1)
    if until_empty:
        _summary(dict(zip(OUTCOMES, shared[:], strict=True)))


@contextlib.contextmanager
def _progress(database_url: str, enabled: bool, interval_s: float = 0.5):
    """A progress bar on stderr while ``--until-empty`` works on a terminal: pushes done of those
    waiting at the start, read from the queue itself, so it counts every worker's deliveries.

    It polls with an engine of its own, never the workers': they are forked processes and must not
    share a connection pool with their parent."""
    if not enabled:
        yield
        return
    from sqlalchemy import create_engine
    from tqdm import tqdm

    engine = create_engine(database_url)
    done = threading.Event()

    def open_pushes() -> int:
        with engine.connect() as connection:
            return connection.scalar(
                select(func.count())
                .select_from(models.OutboxMessage)
                .where(models.OutboxMessage.status.in_([WACHTEND, BEZIG]))
            )

    bar = tqdm(total=open_pushes(), unit="push", desc="delivering", file=sys.stderr, leave=False)

    def follow() -> None:
        while not done.wait(interval_s):
            try:
                remaining = open_pushes()
            except Exception:  # a busy SQLite file: the next poll will do
                continue
            bar.total = max(bar.total, bar.n + remaining)
            bar.update(max(0, bar.total - remaining - bar.n))

    follower = threading.Thread(target=follow, name="outbox-voortgang", daemon=True)
    follower.start()
    try:
        yield
    finally:
        done.set()
        follower.join()
        bar.close()
        engine.dispose()


def _summary(count) -> None:
    """The one line ``--until-empty`` ends with: what this run's attempts came to."""
    from broker.outbound.delivery_queue import DEAD, DELIVERED, RETRIED

    line = f"outbox empty: {count[DELIVERED]} delivered, {count[RETRIED]} retried, {count[DEAD]} dead"
    if count[DEAD]:
        line += " (see vva outbox list --status dood; vva outbox retry --all-dead)"
    click.echo(line)


def _worker(runtime, until_empty: bool, shared=None):
    """One delivery worker; returns its outcomes (and adds them to ``shared``, the supervisor's)."""
    from broker.outbound.delivery_queue import OUTCOMES
    from broker.outbound.delivery_worker import DeliveryWorker

    stopped = []
    for signum in (signal.SIGTERM, signal.SIGINT):  # Ctrl-C reaches the whole process group
        signal.signal(signum, lambda *_: stopped.append(True))
    delivery_worker = DeliveryWorker(runtime)
    try:
        delivery_worker.run(until_empty=until_empty, stop=lambda: bool(stopped))
    finally:
        # A forked worker ends with os._exit (no atexit handlers): remove its files here.
        delivery_worker.close()
        if shared is not None:
            with shared.get_lock():
                for i, uitkomst in enumerate(OUTCOMES):
                    shared[i] += delivery_worker.count[uitkomst]
    return delivery_worker.count


@outbox.command("list")
@click.option("--status", type=click.Choice([WACHTEND, BEZIG, "afgeleverd", DOOD]), help="Only this status.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.pass_obj
def list_(runtime, status: str | None, limit: int) -> None:
    """Counts per status and receiver, then the oldest messages (no pupil data is shown)."""
    upgrade(runtime.engine)  # an older schema is brought up to date first, as by the other commands
    U = models.OutboxMessage
    with runtime.sessions() as session:
        count = select(U.receiver_oin, U.status, func.count()).group_by(U.receiver_oin, U.status)
        if status:
            count = count.where(U.status == status)
        for receiver, st, total in session.execute(count.order_by(U.receiver_oin)):
            click.echo(f"{receiver}  {st:<10} {total}")
        query = select(U).order_by(U.id).limit(limit)
        if status:
            query = query.where(U.status == status)
        for row in session.scalars(query):
            click.echo(
                f"#{row.id} {row.receiver_oin} {row.operation} {row.status} attempts={row.attempts} "
                f"next={row.next_attempt_at:%Y-%m-%d %H:%M:%S} {row.last_error or ''}".rstrip()
            )


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", "all_dead", is_flag=True, help="Every dead-lettered message.")
@click.pass_obj
def retry(runtime, ids: tuple[int, ...], all_dead: bool) -> None:
    """Put dead-lettered messages back in the queue, due now, with a fresh attempt count."""
    if all_dead == bool(ids):
        raise click.UsageError("give message ids or --all-dead, not both and not neither")
    upgrade(runtime.engine)  # an older schema is brought up to date first, as by the other commands
    U = models.OutboxMessage
    with runtime.sessions.begin() as session:
        query = select(U).where(U.status == DOOD)
        if not all_dead:
            query = query.where(U.id.in_(ids))
        rows = list(session.scalars(query))
        for row in rows:
            # Rendered afresh (and so under a new MessageID): never an old state after a newer one.
            row.status, row.attempts, row.next_attempt_at = WACHTEND, 0, datetime.now(UTC)
            row.first_attempt_at = None  # a fresh retry window
            row.content, row.content_digest, row.message_id = b"", None, new_message_id()
    click.echo(f"{len(rows)} message(s) queued again")


@outbox.command("purge-dead")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def purge_dead(runtime, yes: bool) -> None:
    """Delete dead-lettered messages (their attempts stay in the message log)."""
    upgrade(runtime.engine)  # an older schema is brought up to date first, as by the other commands
    U = models.OutboxMessage
    with runtime.sessions.begin() as session:
        total = session.scalar(select(func.count()).where(U.status == DOOD))
        if total and not yes:
            click.confirm(f"Delete {total} dead message(s)?", abort=True)
        session.execute(delete(U).where(U.status == DOOD))
    click.echo(f"{total} dead message(s) deleted")
