"""Two Tepat application nodes behind nginx, as docs/deploy.md lays out a province.

``two_nodes`` starts two granian processes with the production settings on the suite's
PostgreSQL test database and nginx in front of them (TLS with a throw-away local CA,
round-robin, one worker so the turns alternate strictly). nginx names the node that answered
in ``X-Tepat-Node``, so a test can show that one step ran on one node and the next on the
other. Without nginx, or on the SQLite suite, these tests skip; with TEPAT_REQUIRE_TOOLS=1
(CI) a missing nginx is a failure.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "node-key-" + "9Qz!" * 12  # the same on every node, as production requires


def tool_required(found: bool, what: str) -> None:
    """Skip without the tool, except in CI (TEPAT_REQUIRE_TOOLS=1), where it must be there."""
    if found:
        return
    if os.environ.get("TEPAT_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{what} not found")
    pytest.skip(f"{what} not found")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up in {timeout:.0f} s")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def production_env(database_url: str, data_dir: Path, static_root: Path) -> dict[str, str]:
    dropped = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "REDIS_URL"}
    return {
        **{k: v for k, v in os.environ.items() if k not in dropped},
        "TEPAT_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "TEPAT_DATA_DIR": str(data_dir),
        "STATIC_ROOT": str(static_root),
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
    }


def database_url_of(settings_dict: dict[str, Any]) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Production serves the hashed static files of `collectstatic` (once per run)."""
    root = tmp_path_factory.mktemp("static")
    data = tmp_path_factory.mktemp("collect-data")
    env = production_env("sqlite:///unused.sqlite3", data, root)
    subprocess.run(
        [sys.executable, "-m", "tepat.cli", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return root


@dataclass
class Nodes:
    base: str  # https://127.0.0.1:<nginx port>
    ca_cert: Path
    env: dict[str, str]  # the nodes' environment, for a worker process
    node_ports: tuple[int, int]
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    def session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxy, and no CA bundle from the environment over ours
        session.verify = str(self.ca_cert)
        # Django checks the Referer of HTTPS form posts against the host.
        session.headers["Referer"] = f"{self.base}/"
        return session


def _nginx_conf(tmp: Path, port: int, nodes: tuple[int, int], cert: Path, key: Path) -> Path:
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir(exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream tepat {{
        server 127.0.0.1:{nodes[0]};
        server 127.0.0.1:{nodes[1]};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass http://tepat;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            # A node that fails must show as a failure, not be hidden by a retry on the other.
            proxy_next_upstream off;
            add_header X-Tepat-Node $upstream_addr always;
        }}
    }}
}}
"""
    )
    return conf


def _answers(url: str) -> bool:
    try:
        response = requests.get(url, headers={"X-Forwarded-Proto": "https"}, timeout=2)
    except requests.RequestException:
        return False
    return response.status_code == 200


@pytest.fixture
def two_nodes(transactional_db: None, static_root: Path, tmp_path: Path) -> Iterator[Nodes]:
    from django.db import connection

    from tepat.localtls import local_tls_ensure

    tool_required(shutil.which("nginx") is not None, "nginx (Debian package nginx-light)")
    if connection.vendor != "postgresql":
        pytest.skip("two nodes share a PostgreSQL database: runs in the PostgreSQL suite")
    granian = Path(sys.executable).parent / "granian"
    data_dir = tmp_path / "data"  # shared by both nodes, as object storage or NFS would be
    env = production_env(database_url_of(connection.settings_dict), data_dir, static_root)
    ports = (free_port(), free_port())
    nodes = Nodes(
        base="", ca_cert=tmp_path / "tls" / "ca.crt", env=env, node_ports=ports, processes=[]
    )
    try:
        for port in ports:
            log = (tmp_path / f"node-{port}.log").open("wb")
            nodes.processes.append(
                subprocess.Popen(
                    [
                        str(granian),
                        "--interface",
                        "wsgi",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--workers",
                        "1",
                        "--blocking-threads",
                        "1",
                        "--no-ws",
                        "tepat.wsgi:application",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        tls = local_tls_ensure(tmp_path / "tls", ("127.0.0.1", "localhost"))
        nginx_port = free_port()
        (tmp_path / "nginx").mkdir()
        conf = _nginx_conf(tmp_path / "nginx", nginx_port, ports, tls.cert, tls.key)
        nodes.processes.append(
            subprocess.Popen(
                [
                    "nginx",
                    "-c",
                    str(conf),
                    "-p",
                    str(conf.parent),
                    "-e",
                    str(conf.parent / "error.log"),
                    "-g",
                    "daemon off;",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / "nginx-stderr.log").open("wb"),
            )
        )
        for port in ports:
            wait_until(lambda p=port: _answers(f"http://127.0.0.1:{p}/healthz"), f"node {port}")
        nodes.base = f"https://127.0.0.1:{nginx_port}"
        wait_until(lambda: _probe(nodes), "nginx", timeout=20)
        yield nodes
    finally:
        for proc in reversed(nodes.processes):
            stop(proc)


def _probe(nodes: Nodes) -> bool:
    try:
        return nodes.session().get(f"{nodes.base}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
