"""Run Debian's nginx in the foreground on loopback, with a self-signed certificate, for tests."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from pathlib import Path

from tests.support import servers

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
OPENSSL = shutil.which("openssl")


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate and key for ``host`` (an IP address), made with the openssl command."""
    assert OPENSSL is not None, "openssl is not installed"
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=IP:{host}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _main_config(folder: Path, site: Path) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must write the temp paths below
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} info;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n    include {site};\n}}\n"
    )


class Nginx:
    """``with Nginx(folder, site_config, port) as proxy:`` serves ``site_config`` until the block ends."""

    def __init__(self, folder: Path, site_config: str, port: int) -> None:
        assert NGINX is not None, "nginx is not installed"
        self.folder = folder
        self.port = port
        self.site = folder / "site.conf"
        self.site.write_text(site_config)
        self.config = folder / "nginx.conf"
        self.config.write_text(_main_config(folder, self.site))
        self._process: subprocess.Popen[bytes] | None = None

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> Nginx:
        command = [str(NGINX), "-p", str(self.folder), "-c", str(self.config), "-e", str(self.folder / "error.log")]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected the configuration:\n{check.stderr}")
        self._process = servers.start(command, self.port, "nginx", self.error_log)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            servers.stop(self._process)
            self._process = None


def client_tls_context(cert: Path) -> ssl.SSLContext:
    """A TLS context that trusts only ``cert``."""
    return ssl.create_default_context(cafile=str(cert))
