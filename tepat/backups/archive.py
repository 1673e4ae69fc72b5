"""Backing up and restoring one Tepat installation: the database and the private uploads.

A backup is a directory holding ``database.sqlite3`` (SQLite's online backup API: a
consistent copy while Tepat runs) or ``database.pgdump`` (``pg_dump --format=custom``),
``uploads.tar`` (the private storage: selfies, evidence, attachments) and ``manifest.json``
with the SHA-256 and size of each. A restore checks every hash before it touches anything.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404  # pg_dump/pg_restore, argument lists only, no shell
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

MANIFEST = "manifest.json"
UPLOADS = "uploads.tar"
FORMAT = 1


class BackupError(Exception):
    """The backup cannot be made or restored; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict[str, Any]


def uploads_dir() -> Path:
    storages: dict[str, Any] = settings.STORAGES
    options = storages["default"]["OPTIONS"]
    return Path(options["location"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db: dict[str, Any] = dict(settings.DATABASES["default"])
    args = ["--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        # an argument list built from settings, never a shell
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as missing:
        raise BackupError(f"{command[0]} is not installed") from missing
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:500]}")


def _pipe(first: list[str], second: list[str], env: dict[str, str]) -> None:
    """``first | second``, argument lists only; an error of either is a BackupError."""
    try:
        producer = subprocess.Popen(first, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        consumer = subprocess.run(
            second, env=env, stdin=producer.stdout, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as missing:
        raise BackupError(f"{missing.filename} is not installed") from missing
    if producer.stdout is None or producer.stderr is None:  # both were asked for: never
        raise BackupError(f"{first[0]}: no pipe")
    producer.stdout.close()
    produced_error = producer.stderr.read().decode(errors="replace")
    if producer.wait() != 0:
        raise BackupError(f"{first[0]} failed: {produced_error.strip()[:500]}")
    if consumer.returncode != 0:
        raise BackupError(f"{second[0]} failed: {consumer.stderr.strip()[:500]}")


def backup_create(target: Path, *, uploads: Path | None = None) -> Backup:
    """Write a new backup directory under ``target``; the database stays in use meanwhile."""
    uploads = uploads or uploads_dir()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = target / f"tepat-backup-{stamp}"
    path.mkdir(parents=True)
    vendor = connection.vendor
    if vendor == "sqlite":
        database = path / "database.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(database) as copy:
            connection.connection.backup(copy)
        copy.close()
    elif vendor == "postgresql":
        database = path / "database.pgdump"
        args, env = _pg_env()
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(database), *args], env)
    else:
        raise BackupError(f"no backup for the {vendor} database")
    with tarfile.open(path / UPLOADS, "w") as tar:
        if uploads.exists():
            tar.add(uploads, arcname=".")
    files = {
        item.name: {"sha256": _sha256(item), "bytes": item.stat().st_size}
        for item in sorted(path.iterdir())
    }
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "database": vendor,
        "migrations": _latest_migrations(),
        "files": files,
    }
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return Backup(path, manifest)


def _latest_migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).migration_qs.values_list("app", "name"):
        latest[app] = max(latest.get(app, ""), name)
    return latest


def backup_check(path: Path) -> Backup:
    """Read the manifest and recompute every hash; any difference refuses the backup."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as bad:
        raise BackupError(f"{path}: no readable {MANIFEST}") from bad
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}")
    for name, facts in manifest["files"].items():
        item = path / name
        if not item.is_file() or _sha256(item) != facts["sha256"]:
            raise BackupError(f"{path}: {name} is missing or differs from the manifest")
    return Backup(path, manifest)


def backup_restore(path: Path, *, uploads: Path | None = None) -> Backup:
    """Replace the database and the uploads with the backup's. The uploads found before are
    kept beside, as ``<dir>.before-restore-<time>``."""
    backup = backup_check(path)
    uploads = uploads or uploads_dir()
    vendor = connection.vendor
    if backup.manifest["database"] != vendor:
        raise BackupError(
            f"the backup is of a {backup.manifest['database']} database, this one is {vendor}"
        )
    if vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(path / "database.sqlite3") as source:
            source.backup(connection.connection)
        source.close()
    else:
        connection.close()
        args, env = _pg_env()
        # Not ``pg_restore --clean``: it drops each partition's primary key on its own, which
        # PostgreSQL refuses for the partitioned ledger and reports. The schema is emptied
        # instead, in the same transaction as the restore: all of it happens or none of it.
        _pipe(
            ["pg_restore", "--no-owner", "--file", "-", str(path / "database.pgdump")],
            ["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction",
             "--command", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;", "--file", "-",
             *args],
            env,
        )  # fmt: skip
    _uploads_restore(path / UPLOADS, uploads)
    return backup


def _uploads_restore(archive: Path, uploads: Path) -> None:
    fresh = uploads.with_name(f"{uploads.name}.restoring")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(fresh, filter="data")  # refuses absolute paths, .., links outside
    if uploads.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        uploads.rename(uploads.with_name(f"{uploads.name}.before-restore-{stamp}"))
    fresh.rename(uploads)
