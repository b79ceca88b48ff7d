"""The production nginx site (deploy/nginx/) as a runnable test configuration with the demo PKI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BROKER_OIN = "00000099000000000001"


def nginx_or_skip() -> str:
    """The nginx binary (Debian ``nginx``; .ci/run installs it), or skip with the reason."""
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if path is None:
        pytest.skip("nginx not installed (apt-get install nginx; .ci/run does)")
    return path


def _replace(text: str, old: str, new: str) -> str:
    # Every path is replaced exactly as written in the deploy file: a renamed path fails here, loudly.
    assert old in text, f"{old!r} no longer in the deploy file"
    return text.replace(old, new)


def write_nginx_config(folder: Path, pki: Path, port: int, broker_port: int) -> Path:
    """nginx.conf in ``map`` running deploy/nginx/vva-site.conf on 127.0.0.1:``port`` in front of a
    broker on ``broker_port``, with the demo PKI in ``pki`` as the server certificate, the CA and the
    CRLs. Only the listen address, the upstream and the file paths differ from production."""
    tls = folder / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    ca = pki / "ca"
    (tls / "server.chain.pem").write_bytes((pki / f"{BROKER_OIN}.chain.pem").read_bytes())
    shutil.copy(pki / f"{BROKER_OIN}.key.pem", tls / "server.key.pem")
    (tls / "pkioverheid-ca.pem").write_bytes(
        (ca / "root.pem").read_bytes() + (ca / "issuing.pem").read_bytes()
    )
    (tls / "pkioverheid-crl.pem").write_bytes(
        (ca / "root.crl.pem").read_bytes() + (ca / "issuing.crl.pem").read_bytes()
    )
    site = (DEPLOY / "nginx" / "vva-site.conf").read_text()
    site = _replace(site, "listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
    site = _replace(site, "/etc/vva/tls/", f"{tls}/")
    site = _replace(site, "/var/lib/vva/crl/", f"{tls}/")
    (folder / "vva-site.conf").write_text(site)
    upstream = (DEPLOY / "nginx" / "upstream-local.conf").read_text()
    (folder / "upstream.conf").write_text(_replace(upstream, "127.0.0.1:8080", f"127.0.0.1:{broker_port}"))
    for temporary in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temporary).mkdir(exist_ok=True)
    conf = folder / "nginx.conf"
    # One process in the foreground, as the test's user, everything inside ``map``.
    conf.write_text(
        f"daemon off;\nmaster_process off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} info;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n  access_log {folder / 'access.log'};\n"
        + "".join(
            f"  {soort}_temp_path {folder / naam};\n"
            for soort, naam in (
                ("client_body", "body"),
                ("proxy", "proxy"),
                ("fastcgi", "fastcgi"),
                ("uwsgi", "uwsgi"),
                ("scgi", "scgi"),
            )
        )
        + f"  include {folder / 'upstream.conf'};\n  include {folder / 'vva-site.conf'};\n}}\n"
    )
    return conf


def nginx_test(nginx: str, conf: Path) -> subprocess.CompletedProcess:
    """``nginx -t`` on ``conf`` (error log to stderr, prefix in its folder)."""
    return subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(conf.parent), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )
