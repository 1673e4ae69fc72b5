"""The demo's local HTTPS: a CA the phone can trust, and a server certificate it signs that a
client verifying against that CA accepts."""

import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tepat.localtls import local_tls_ensure

ROOT = Path(__file__).resolve().parents[1]


def test_server_certificate_is_signed_by_the_local_ca_for_the_lan_address(tmp_path: Path) -> None:
    tls = local_tls_ensure(tmp_path, ("localhost", "127.0.0.1", "192.168.1.23"))
    ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    cert = x509.load_pem_x509_certificate(tls.cert.read_bytes())
    ca_key = ca.public_key()
    assert isinstance(ca_key, ec.EllipticCurvePublicKey)
    assert cert.signature_hash_algorithm is not None
    ca_key.verify(
        cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
    )
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "192.168.1.23" in [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    assert oct(tls.key.stat().st_mode & 0o777) == "0o600"


def test_the_ca_is_kept_so_the_phone_installs_it_once(tmp_path: Path) -> None:
    first = local_tls_ensure(tmp_path, ("localhost",)).ca_cert.read_bytes()
    assert local_tls_ensure(tmp_path, ("localhost", "10.0.0.5")).ca_cert.read_bytes() == first


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tepat_answers_over_https_trusted_through_the_local_ca(tmp_path: Path) -> None:
    tls = local_tls_ensure(tmp_path / "tls", ("localhost", "127.0.0.1"))
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "TEPAT_DATA_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tepat.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--certfile",
            str(tls.cert),
            "--keyfile",
            str(tls.key),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    context = ssl.create_default_context(cafile=str(tls.ca_cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"https://127.0.0.1:{port}/healthz", context=context, timeout=5
                ) as response:
                    assert json.loads(response.read()) == {"status": "ok", "database": True}
                    break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=10)
