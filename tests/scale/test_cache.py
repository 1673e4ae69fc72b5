"""The cache every node shares: a database table by default, Redis when REDIS_URL is set."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache

ROOT = Path(__file__).resolve().parents[2]
REDIS = ("127.0.0.1", 6379)


def test_the_default_cache_is_the_database(db: None) -> None:
    assert isinstance(caches["default"], DatabaseCache)
    cache.set("tepat-cache-probe", "dibagi", 30)
    # Another process (another node) reads the same table: here, a second cache object.
    assert DatabaseCache("tepat_cache", {}).get("tepat-cache-probe") == "dibagi"


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


def _cache_in_process(code: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tepat.cli", "shell", "--verbosity", "0", "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tepat.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_redis_url_puts_the_cache_in_redis_for_every_process(tmp_path: Path) -> None:
    if not _redis_reachable():
        pytest.skip("no Redis server at 127.0.0.1:6379")
    env = {"REDIS_URL": "redis://127.0.0.1:6379/15", "TEPAT_DATA_DIR": str(tmp_path)}
    key = f"tepat-test-{os.getpid()}"
    written = _cache_in_process(
        "from django.core.cache import cache, caches; "
        f"cache.set('{key}', 'dari node 1', 30); print(type(caches['default']).__name__)",
        env,
    )
    assert written == "RedisCache"
    # A second process, as a second node would: it sees the value the first one wrote.
    read = _cache_in_process(
        f"from django.core.cache import cache; print(cache.get('{key}')); cache.delete('{key}')",
        env,
    )
    assert read == "dari node 1"
