"""The files of deploy/ made runnable on a test machine: the same files, with the server's
paths (/opt/kt1, /etc/kt1) and ports replaced by a temporary folder and free ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def tool(name: str) -> str | None:
    """A system tool, also where root's PATH has it (/usr/sbin/nginx)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")


def need_tool(name: str, package: str) -> str:
    path = tool(name)
    need(path is not None, f"{name} is not installed (Debian package {package})")
    assert path is not None
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/make-cert.sh run for real: a CA and a server certificate for 127.0.0.1."""
    need_tool("openssl", "openssl")
    tls = tmp_path_factory.mktemp("tls")
    done = subprocess.run(
        ["sh", str(DEPLOY / "make-cert.sh"), "localhost", "127.0.0.1"],
        env={**os.environ, "TLS_DIR": str(tls)}, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for name in ("ca.crt", "ca.key", "kt1.crt", "kt1.key"):
        assert (tls / name).is_file(), name
    assert (tls / "kt1.key").stat().st_mode & 0o077 == 0  # the key is for its owner only
    return tls


@dataclass
class NginxSetup:
    folder: Path
    conf: Path
    https_port: int
    http_port: int


def render_nginx(folder: Path, tls: Path, upstream_port: int) -> NginxSetup:
    """deploy/nginx/kt1.conf in a test nginx.conf that includes it, as the server's
    /etc/nginx/nginx.conf includes sites-enabled/ (loopback ports, paths under ``folder``)."""
    https_port, http_port = free_port(), free_port()
    site = (DEPLOY / "nginx" / "kt1.conf").read_text()
    replacements = {
        "listen 443 ssl http2 default_server;":
            f"listen 127.0.0.1:{https_port} ssl http2 default_server;",
        "listen 80 default_server;": f"listen 127.0.0.1:{http_port} default_server;",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        "/etc/kt1/tls/": f"{tls}/",
        "/etc/kt1/nginx-proxy.conf": str(DEPLOY / "nginx" / "nginx-proxy.conf"),
        "root /etc/kt1/nginx;": f"root {DEPLOY / 'nginx'};",
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/kt1.conf no longer has {old!r}"
        site = site.replace(old, new)
    # IPv6 may be off on a test machine
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    assert "/etc/kt1" not in site
    (folder / "kt1.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {folder}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = folder / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
{temp}
    include {folder}/kt1.conf;
}}
""")
    return NginxSetup(folder=folder, conf=conf, https_port=https_port, http_port=http_port)


def nginx_command(nginx: str, setup: NginxSetup, *args: str) -> list[str]:
    return [nginx, "-p", str(setup.folder), "-c", str(setup.conf),
            "-e", str(setup.folder / "error.log"), *args]


def venv_bin(name: str) -> Path:
    return Path(sys.prefix) / "bin" / name
