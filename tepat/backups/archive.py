"""Backing up and restoring one Tepat installation: the database and the private uploads.

A backup is a directory holding ``database.sqlite3`` (SQLite's online backup API: a
consistent copy while Tepat runs) or ``database.pgdump`` (``pg_dump --format=custom``),
``uploads.tar`` (the private storage: selfies, evidence, attachments, exports) and
``manifest.json`` with the SHA-256 and size of each. A restore checks every hash before it
touches anything.

The private storage is Django's default storage: a directory (``TEPAT_DATA_DIR/private``), or
the S3 bucket of ``TEPAT_STORAGE_URL``, whose objects are streamed into the same
``uploads.tar`` and written back from it, so a backup restores into either.
"""

import hashlib
import json
import os
import posixpath
import shutil
import sqlite3
import subprocess  # nosec B404  # pg_dump/pg_restore, argument lists only, no shell
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
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


def uploads_dir() -> Path | None:
    """The private storage's directory; None when it is an object store."""
    storage = storages["default"]
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


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
    stamp = _stamp()
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
        if uploads is None:
            _objects_archive(tar)
        elif uploads.exists():
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
    if uploads is None:
        _objects_restore(path / UPLOADS)
    else:
        _uploads_restore(path / UPLOADS, uploads)
    return backup


def _uploads_restore(archive: Path, uploads: Path) -> None:
    fresh = uploads.with_name(f"{uploads.name}.restoring")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(fresh, filter="data")  # refuses absolute paths, .., links outside
    if uploads.exists():
        uploads.rename(uploads.with_name(f"{uploads.name}.before-restore-{_stamp()}"))
    fresh.rename(uploads)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


# In a bucket, what a restore found and the backup does not have is moved under this prefix
# (the directory's ``private.before-restore-<time>``), and later backups leave it out.
ASIDE = "before-restore-"


def _object_storage() -> Any:
    """The default storage when it is Tepat's object store (tepat.object_storage)."""
    storage = storages["default"]
    if not hasattr(storage, "names"):
        raise BackupError(f"no backup for the {type(storage).__name__} storage")
    return storage


def _objects_archive(tar: tarfile.TarFile) -> None:
    """Every object of the bucket into the tar, streamed one at a time (none is held whole)."""
    storage = _object_storage()
    for name, size in storage.names():
        if name.startswith(ASIDE):
            continue
        body, _ = storage.stream(name)
        member = tarfile.TarInfo(name)
        member.size = size
        member.mtime = int(datetime.now(UTC).timestamp())
        try:
            tar.addfile(member, body)
        finally:
            body.close()


def _objects_restore(archive: Path) -> None:
    """Put every file of the archive back into the bucket under its own name; objects the
    backup does not have are moved under ``before-restore-<time>/``."""
    storage = _object_storage()
    with tarfile.open(archive) as tar:
        members = {}
        for member in tar.getmembers():
            name = posixpath.normpath(member.name)
            if member.isdir() or name == ".":
                continue
            if not member.isfile() or name.startswith(("/", "../")) or name == "..":
                raise BackupError(f"{archive}: {member.name!r} is not a file inside the storage")
            members[name] = member
        aside = f"{ASIDE}{_stamp()}/"
        for name, _ in list(storage.names()):
            if not name.startswith(ASIDE) and name not in members:
                body, _ = storage.stream(name)
                with body:
                    storage.save(aside + name, File(body))
                storage.delete(name)
        for name, member in members.items():
            content = tar.extractfile(member)
            if content is None:  # a regular file always has content: never
                raise BackupError(f"{archive}: {name} cannot be read")
            storage.delete(name)
            if storage.save(name, File(content)) != name:
                raise BackupError(f"{name} could not be written back under its own name")
