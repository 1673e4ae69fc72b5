"""The Indonesian catalogue is complete and the compiled .mo shipped in the repo matches it."""

import os
import shutil
import subprocess
from gettext import GNUTranslations
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[1] / "tepat" / "locale" / "id" / "LC_MESSAGES"


@pytest.fixture
def msgfmt() -> str:
    exe = shutil.which("msgfmt")
    if exe is None:
        if os.environ.get("TEPAT_REQUIRE_TOOLS") == "1":
            pytest.fail("msgfmt (gettext) is not installed")
        pytest.skip("msgfmt (gettext) is not installed")
    return exe


def _catalog(mo: Path) -> dict[object, str]:
    with mo.open("rb") as fh:
        return dict(GNUTranslations(fh)._catalog)  # type: ignore[attr-defined]


def test_every_message_is_translated_and_the_mo_is_fresh(msgfmt: str, tmp_path: Path) -> None:
    fresh = tmp_path / "django.mo"
    result = subprocess.run(
        [msgfmt, "--check-format", "--statistics", "-o", str(fresh), str(LOCALE / "django.po")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
    assert _catalog(LOCALE / "django.mo") == _catalog(fresh)
