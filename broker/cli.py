"""The ``vva`` command: one entry point for operators, with sub-commands per concern."""

from __future__ import annotations

from datetime import date

import click

from broker.bootstrap import Runtime


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="VVA_CONFIG",
    type=click.Path(dir_okay=False),
    help="Settings file (TOML). Default: ./vva.toml when present.",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """vva-broker: the national Edukoppeling broker for early MBO registration."""
    # ``init`` and ``pki`` make the demo PKI that key, certificate and CRL settings may point into:
    # for them those files need not exist yet; every other command refuses to start without them.
    files_must_exist = ctx.invoked_subcommand not in ("init", "pki")
    try:
        ctx.obj = Runtime.load(config_path, files_must_exist=files_must_exist)
    except ValueError as error:  # a wrong settings file: one clear line, no traceback
        raise click.ClickException(str(error)) from None
    # Close pooled connections when the command ends, also on an error exit, instead of leaving them
    # to the garbage collector (PostgreSQL would see the connections drop without a goodbye).
    ctx.call_on_close(ctx.obj.close)


@main.command()
@click.option(
    "--demo/--no-demo",
    default=True,
    show_default=True,
    help="Load the fictional demo reference data and parties.",
)
@click.pass_obj
def init(runtime: Runtime, demo: bool) -> None:
    """Create the schema, the keys and (by default) the demo data.

    Idempotent: a second run migrates what is new and leaves data alone.
    """
    from broker.db.migrate import upgrade
    from broker.privacy.keys import make_key_file

    if demo and runtime.settings.environment == "production":
        # ClickException, not UsageError: one line, without the usage text (issue 20, item 7).
        raise click.ClickException("the demo data use test OINs: run 'vva init --no-demo' in production")

    keys = runtime.settings.key_file
    if not keys.exists():
        make_key_file(keys)
        click.echo(f"keys: created {keys} (keep it secret; it protects every BSN)")
    upgrade(runtime.engine)
    click.echo(f"database: {runtime.engine.url.render_as_string(hide_password=True)} is up to date")
    if demo:
        from pathlib import Path

        import broker.registry
        from broker.pki.demo import make_demo_pki
        from broker.refdata.load import load_demo
        from broker.registry.toml import load_partijen, read_partijen

        with runtime.sessions.begin() as session:
            report = load_demo(session, runtime.calendar.cyclus_on(date.today()).jaar)
        tables = ", ".join(f"{t.total} {name}" for name, t in report.counts.items())
        click.echo(f"reference data: demo set loaded ({tables}; {len(report.rejected)} rows rejected)")
        demo_partijen = Path(broker.registry.__file__).parent / "demo-partijen.toml"
        with runtime.sessions.begin() as session:
            count = load_partijen(session, demo_partijen)
        click.echo(f"parties: {count} demo parties loaded")
        make_demo_pki(runtime.settings.pki_dir, [(p.oin, p.naam) for p in read_partijen(demo_partijen)])
        click.echo(f"demo PKI: {runtime.settings.pki_dir} (CA, CRLs, a key and certificate per party)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", type=int, help="Worker processes  [default: 2, or the gunicorn config's]")
@click.option("--threads", type=int, help="Threads per worker  [default: 4, or the gunicorn config's]")
@click.option(
    "--gunicorn-config",
    type=click.Path(exists=True, dir_okay=False),
    help="A gunicorn configuration file (deploy/gunicorn.conf.py): production workers, limits, logs.",
)
@click.pass_obj
def serve(
    runtime: Runtime,
    host: str,
    port: int,
    workers: int | None,
    threads: int | None,
    gunicorn_config: str | None,
) -> None:
    """Serve the SOAP services with gunicorn; GET /health and /metrics for operators.

    \b
    TLS: with tls_key and tls_certificate in the settings the broker terminates two-way TLS
    itself on HOST:PORT (https; client certificates must chain to tls_client_ca, or to the trust
    store's CAs without it). Without them it serves plain HTTP, for the demo or behind a proxy that
    terminates TLS and passes the client certificate (trusted_proxies; see deploy/README.md).
    tls_required requires a client certificate on every request (default: in production).

    \b
    Before serving, the settings are checked in this process: with environment = "production" an
    unsigned service, tls_required = false or a demo CA in the trust store ends the command with one
    line on stderr and exit status 1; so do a missing signing key, certificate, CRL or key file.
    """
    from broker.edukoppeling.contract import BROKER_SERVICES, Contract
    from broker.web.server import port_in_use, serve_forever
    from broker.web.startup_checks import StartRefused, check_schema, check_start

    contract = Contract(keys=BROKER_SERVICES)
    try:
        # Here, not in a worker: a refusal is one line and exit status 1, never a worker traceback.
        check_start(runtime, contract)
        check_schema(runtime)
    except StartRefused as error:
        raise click.ClickException(str(error)) from None
    if port_in_use(host, port):
        raise click.ClickException(
            f"port {port} on {host} is already in use (another vva serve?); "
            "choose another with --port, e.g. --port 8081"
        )
    scheme = "https" if runtime.settings.tls_key is not None else "http"
    for service in contract.services.values():
        click.echo(f"WSDL {service.service_id:9} {scheme}://{host}:{port}{service.path}?wsdl")
    serve_forever(runtime, host, port, workers, threads, gunicorn_config=gunicorn_config)


def _register() -> None:
    from broker.audit.cli import audit
    from broker.client.cli import client
    from broker.conformance.cli import conformance
    from broker.edukoppeling.cli import envelope
    from broker.jaarcyclus.cyclus_cli import cycle
    from broker.jaarcyclus.signalen_cli import signals
    from broker.outbound.cli import outbox
    from broker.pki.cli import pki
    from broker.privacy.cli import keys
    from broker.rapportage.cli import report
    from broker.refdata.cli import refdata
    from broker.registry.cli import party
    from broker.web.receiver_cli import receiver

    for group in (
        refdata,
        party,
        pki,
        envelope,
        outbox,
        receiver,
        audit,
        signals,
        keys,
        cycle,
        client,
        conformance,
    ):
        main.add_command(group)
    main.add_command(report)


_register()
