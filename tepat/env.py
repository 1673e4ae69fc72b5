"""Tiny, loud readers for settings that come from the environment.

Each ``NAME`` may also be given as ``NAME_FILE`` (a path whose content is the value), so
secrets can come from systemd credentials or Docker secrets instead of the process
environment.
"""

import os
import secrets
from pathlib import Path


def env_str(name: str, default: str) -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name, "1" if default else "0").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise RuntimeError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name, "")
    if not raw.strip():
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key_load(data_dir: Path, *, required: bool) -> str:
    """Return SECRET_KEY from the environment, or the demo's key kept in the data dir.

    Production must set it explicitly: a key generated on one node would differ on the
    next and silently log everybody out.
    """
    key = env_str("SECRET_KEY", "")
    if key:
        if len(key) < 50:
            raise RuntimeError("SECRET_KEY must be at least 50 characters long")
        return key
    if required:
        raise RuntimeError("SECRET_KEY (or SECRET_KEY_FILE) must be set when TEPAT_ENV=production")
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(64))
    return key_file.read_text(encoding="utf-8").strip()
