"""``vva receiver serve|list|show``: the reference receiver of pushes (``broker.web.receiver``) and what
it received (``broker.web.received``)."""

from __future__ import annotations

import click

from broker.db.migrate import upgrade


@click.group()
def receiver() -> None:
    """The reference receiver of pushes (the contract in wsdl/vva-ontvanger-v1.wsdl)."""


@receiver.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--fail", "faults", default="", help="Fail the first requests, e.g. 503,timeout,DK0051.")
@click.option(
    "--timeout-s",
    default=15.0,
    show_default=True,
    type=float,
    help="How long a 'timeout' failure stalls before answering. Longer than the broker's push timeout "
    "(outbox_timeout_s, default 10) makes the broker give up and retry; shorter is only a slow answer.",
)
@click.pass_obj
def receiver_serve(runtime, host: str, port: int, faults: str, timeout_s: float) -> None:
    """Serve the receiver contract with the full inbound gate (its own database and keys from --config)."""
    from broker.web.receiver import FAULTS, make_receiver
    from broker.web.server import serve_forever

    faults_list = [s for s in faults.split(",") if s]
    if any(s not in FAULTS for s in faults_list):
        raise click.BadParameter(f"each failure is one of {', '.join(FAULTS)}", param_hint="--fail")
    keys = runtime.settings.key_file
    if not keys.exists():
        from broker.privacy.keys import make_key_file

        make_key_file(keys)  # the receiver's own key for its message log
    from broker.edukoppeling.contract import RECEIVER_SERVICES, Contract
    from broker.web.startup_checks import StartRefused, check_start

    try:  # in this process: a refusal is one line, never a worker traceback
        check_start(runtime, Contract(keys=RECEIVER_SERVICES))
    except StartRefused as error:
        raise click.ClickException(str(error)) from None
    upgrade(runtime.engine)
    runtime.close()
    click.echo(f"WSDL ontvanger http://{host}:{port}/vva/ontvanger/v1?wsdl")
    serve_forever(
        runtime, host, port, workers=1, threads=4, make_app=lambda rt: make_receiver(rt, faults_list, timeout_s)
    )


@receiver.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.pass_obj
def receiver_list(runtime, limit: int) -> None:
    """What the receiver got, newest first: id, time, sender OIN, operation, MessageID, outcome
    (verwerkt, herhaald = a redelivery answered from memory, or the faultcode). No pupil data."""
    from broker.web.received import list_

    upgrade(runtime.engine)
    with runtime.sessions() as session:
        pushes = list_(session, limit)
    if not pushes:
        click.echo("nothing received yet")
    for o in pushes:
        click.echo(
            f"#{o.id} {o.tijdstip:%Y-%m-%d %H:%M:%S} {o.afzender_oin or '-'} {o.operatie} "
            f"{o.message_id or '-'} {o.uitkomst}"
        )


@receiver.command("show")
@click.argument("bericht_id", metavar="ID", type=int)
@click.option(
    "--show-numbers",
    "numbers",
    is_flag=True,
    help="Show pupil numbers (bsn, onderwijsnummer); masked as ********* without it.",
)
@click.pass_obj
def receiver_show(runtime, bericht_id: int, numbers: bool) -> None:
    """One received message (ID from `vva receiver list`), decrypted with the receiver's own key: its
    addressing, how it ended, and the SOAP Body exactly as the broker sent it."""
    from broker.web.received import show

    upgrade(runtime.engine)
    with runtime.sessions() as session:
        text = show(session, bericht_id, runtime.keyring, numbers)
    if text is None:
        raise click.ClickException(f"no received message #{bericht_id} (see vva receiver list)")
    click.echo(text)
