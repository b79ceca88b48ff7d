"""The deployment files are accepted by the tools that will run them: the compose-spec schema (no
docker engine here; `docker compose config` needs one), `systemd-analyze verify` and `nginx -t`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from broker.cli import main
from tests.deploy.nginx import DEPLOY, nginx_or_skip, nginx_test, write_nginx_config

COMPOSE = DEPLOY / "compose" / "compose.yaml"


def test_compose_file_meets_the_compose_spec():
    # check-jsonschema ships the compose-spec JSON schema (vendor.compose-spec), the schema that
    # `docker compose config` validates against.
    verdict = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "ok -- validation done" in verdict.stdout


def test_compose_file_is_consistent():
    # What the schema cannot see: the services it names exist, the long-running ones have health
    # checks, the files it mounts are in the repository, the proxy address matches trusted_proxies.
    compose = YAML(typ="safe").load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migration", "broker", "worker", "nginx"}
    for name, service in services.items():
        for dependent in service.get("depends_on", {}):
            assert dependent in services, (name, dependent)
        if name != "migration":
            assert service["healthcheck"]["test"], name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("../"):
                assert (COMPOSE.parent / source).exists(), source
    assert services["broker"]["depends_on"]["migration"]["condition"] == "service_completed_successfully"
    assert services["nginx"]["depends_on"]["broker"]["condition"] == "service_healthy"
    proxy = services["nginx"]["networks"]["vva"]["ipv4_address"]
    assert f'trusted_proxies = ["{proxy}"]' in (COMPOSE.parent / "vva.toml").read_text()
    container = (DEPLOY / "Containerfile").read_text()
    for line in container.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (DEPLOY.parent / source).exists(), source


def test_compose_settings_are_valid_vva_settings():
    from broker.config import load_settings

    settings = load_settings(DEPLOY / "compose" / "vva.toml", files_must_exist=False)
    assert settings.environment == "production" and settings.client_certificate_required
    example = load_settings(DEPLOY / "vva.toml.example", files_must_exist=False)
    assert example.trusted_proxies == ("127.0.0.1",)


def test_systemd_units_verify(tmp_path):
    analyse = shutil.which("systemd-analyze")
    if analyse is None:
        pytest.skip("systemd-analyze not installed")
    units = sorted((DEPLOY / "systemd").iterdir())
    assert {u.name for u in units} >= {
        "vva-web.service",
        "vva-outbox.service",
        "vva-signals.service",
        "vva-signals.timer",
        "vva-cycle.service",
        "vva-cycle.timer",
        "vva-crl.service",
        "vva-crl.timer",
    }
    # verify checks that every ExecStart program exists: point the install paths at this checkout.
    vva = Path(sys.prefix) / "bin" / "vva"
    for unit in units:
        text = unit.read_text().replace("/opt/vva/venv/bin/vva", str(vva))
        text = text.replace("/opt/vva/deploy/", f"{DEPLOY}/")
        (tmp_path / unit.name).write_text(text)
    verdict = subprocess.run(
        [analyse, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    # verify only warns (exit 0) about unknown keys and bad values: any output is a failure here.
    assert verdict.returncode == 0 and not verdict.stderr.strip() and not verdict.stdout.strip(), (
        verdict.stdout + verdict.stderr
    )


@pytest.fixture
def demo_pki(tmp_path) -> Path:
    """The demo PKI (CA, CRLs, the broker's and the parties' certificates), as `vva init` makes it."""
    config = tmp_path / "vva.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "v.sqlite3"}"\nkey_file = "{tmp_path / "k.json"}"\n'
        f'pki_dir = "{tmp_path / "pki"}"\n'
    )
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == 0
    return tmp_path / "pki"


def test_nginx_accepts_the_site_with_test_certificates(tmp_path, demo_pki):
    nginx = nginx_or_skip()
    conf = write_nginx_config(tmp_path / "nginx", demo_pki, 8443, 8080)
    verdict = nginx_test(nginx, conf)
    assert verdict.returncode == 0, verdict.stderr
    assert "syntax is ok" in verdict.stderr and "test is successful" in verdict.stderr


def test_nginx_refuses_a_site_without_an_existing_crl(tmp_path, demo_pki):
    # The test above can fail: nginx -t really loads certificates and CRLs.
    nginx = nginx_or_skip()
    conf = write_nginx_config(tmp_path / "nginx", demo_pki, 8443, 8080)
    (tmp_path / "nginx" / "tls" / "pkioverheid-crl.pem").unlink()
    verdict = nginx_test(nginx, conf)
    assert verdict.returncode != 0 and "pkioverheid-crl.pem" in verdict.stderr


def test_every_vva_command_in_the_units_exists_with_valid_options(tmp_path):
    """The timers run unattended once a day or once a year: a command or option the CLI does not have
    would fail only then. Each ``vva …`` in an ExecStart must parse (sub-commands, required options)."""
    import re
    import shlex

    import click

    from broker.cli import main

    found = 0
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text().replace("\\\n", " ")
        for line in re.findall(r"^ExecStart=(.*)$", text, flags=re.M):
            line = re.sub(r"\$\(\(.*?\)\)|\$\(.*?\)", "2027", line).replace("%%", "%")
            words = shlex.split(line.replace("'", " ").replace('"', " "))
            if not any(w.endswith("/vva") for w in words):
                continue
            arguments = words[[i for i, w in enumerate(words) if w.endswith("/vva")][0] + 1 :]
            command, name = main, "vva"
            while isinstance(command, click.Group) and arguments and arguments[0] in command.commands:
                name, arguments = arguments[0], arguments[1:]
                command = command.commands[name]
            assert not isinstance(command, click.Group), f"{unit.name}: incomplete command {line}"
            # Files the operator provides (DUO files, the gunicorn settings) exist on a server only: stand-ins.
            for path in [a for a in arguments if a.startswith(("/var/lib/vva/", "/etc/vva/"))]:
                (tmp_path / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / path.lstrip("/")).touch()
            arguments = [
                str(tmp_path / a.lstrip("/")) if a.startswith(("/var/lib/vva/", "/etc/vva/")) else a
                for a in arguments
            ]
            command.make_context(name, list(arguments))  # raises on an unknown or missing option
            found += 1
    assert found >= 5
