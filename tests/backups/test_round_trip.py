"""``tepat backup`` then ``tepat restore``: the database and the private uploads come back
as they were, and a backup whose bytes changed is refused before anything is touched."""

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tepat.backups.archive import backup_create, backup_restore
from tepat.org.models import Opd
from tests.world import World

# Restoring replaces the whole database, so these tests cannot run inside a transaction;
# serialized_rollback restores the migrated data for the tests after them.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

needs_pg_tools = pytest.mark.skipif(
    connection.vendor == "postgresql" and shutil.which("pg_dump") is None,
    reason="pg_dump is not installed",
)


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    folder = tmp_path / "private"
    (folder / "evidence" / "1").mkdir(parents=True)
    (folder / "evidence" / "1" / "surat.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    return folder


@needs_pg_tools
def test_a_backup_restores_the_data_and_the_uploads(
    world: World, uploads: Path, tmp_path: Path
) -> None:
    backup = backup_create(tmp_path / "backups", uploads=uploads)
    manifest = json.loads((backup.path / "manifest.json").read_text())
    assert set(manifest["files"]) == {
        f"database.{'sqlite3' if connection.vendor == 'sqlite' else 'pgdump'}",
        "uploads.tar",
    }
    assert all(len(facts["sha256"]) == 64 for facts in manifest["files"].values())

    # Disaster: an OPD deleted, one added, an upload lost and a stray file dropped.
    Opd.objects.filter(code="DINKES").update(name="Dinas yang dirusak")
    Opd.objects.create(code="JUDI", name="Slot gacor", kind="dinas")
    (uploads / "evidence" / "1" / "surat.pdf").unlink()
    (uploads / "shell.php").write_text("<?php system($_GET['c']);")

    backup_restore(backup.path, uploads=uploads)

    assert sorted(Opd.objects.values_list("code", "name")) == [
        ("DINDIK", "Dinas Pendidikan dan Kebudayaan"),
        ("DINKES", "Dinas Kesehatan"),
    ]
    assert (uploads / "evidence" / "1" / "surat.pdf").read_bytes() == b"%PDF-1.4\n%%EOF\n"
    assert not (uploads / "shell.php").exists()
    kept_aside = [p for p in tmp_path.iterdir() if p.name.startswith("private.before-restore-")]
    assert len(kept_aside) == 1
    assert (kept_aside[0] / "shell.php").exists()


def test_a_changed_backup_is_refused_and_nothing_is_restored(
    world: World, uploads: Path, tmp_path: Path, settings: object
) -> None:
    backup = backup_create(tmp_path / "backups", uploads=uploads)
    with (backup.path / "uploads.tar").open("ab") as tar:
        tar.write(b"\0" * 512)
    Opd.objects.create(code="BARU", name="Dinas Baru", kind="dinas")
    with pytest.raises(CommandError, match=r"uploads.tar is missing or differs"):
        call_command("restore", str(backup.path), "--yes", stdout=StringIO())
    assert Opd.objects.filter(code="BARU").exists()


def test_the_commands_print_the_backup_and_check_without_restoring(
    world: World, tmp_path: Path, settings: object
) -> None:
    out = StringIO()
    call_command("backup", str(tmp_path), stdout=out)
    path = Path(out.getvalue().strip())
    assert (path / "manifest.json").exists()
    Opd.objects.create(code="BARU", name="Dinas Baru", kind="dinas")
    out = StringIO()
    call_command("restore", str(path), stdout=out)
    assert "intact" in out.getvalue()
    assert Opd.objects.filter(code="BARU").exists()  # without --yes nothing changes
