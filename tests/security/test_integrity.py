"""``tepat integrity``: a web shell dropped into the deployed tree, a defaced template, a deleted
file or a forged manifest is reported and the check exits non-zero; a page that shows Googlebot
gambling spam is caught by the probe. Every test works on a copy of the package (``--root``)."""

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.core.management import CommandError, call_command

import tepat

PACKAGE = Path(tepat.__file__).resolve().parent


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tepat"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PACKAGE / "templates", root / "templates", ignore=ignore)
    shutil.copytree(PACKAGE / "security", root / "security", ignore=ignore)
    (root / "security" / "__pycache__").mkdir()
    (root / "security" / "__pycache__" / "views.cpython-312.pyc").write_bytes(b"rebuilt")
    return root


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private = Ed25519PrivateKey.generate()
    signing = tmp_path / "release.key"
    signing.write_bytes(private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    verify = tmp_path / "release.pub"
    verify.write_bytes(
        private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return signing, verify


@pytest.fixture
def manifest(tree: Path, keys: tuple[Path, Path], tmp_path: Path) -> Path:
    output = tmp_path / "manifest.json"
    call_command(
        "integrity", "manifest", str(output), "--root", str(tree),
        "--signing-key", str(keys[0]), "--release", "2026.11", stdout=StringIO(),
    )  # fmt: skip
    return output


def _check(manifest: Path, tree: Path, verify_key: Path | None) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    key = ["--verify-key", str(verify_key)] if verify_key else []
    call_command(
        "integrity", "check", str(manifest), "--root", str(tree), *key, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def _check_fails(manifest: Path, tree: Path, verify_key: Path | None) -> str:
    err = StringIO()
    key = ["--verify-key", str(verify_key)] if verify_key else []
    with pytest.raises(CommandError, match="integrity check failed"):
        call_command(
            "integrity", "check", str(manifest), "--root", str(tree), *key,
            stdout=StringIO(), stderr=err,
        )  # fmt: skip
    return err.getvalue()


def test_an_untouched_tree_passes_with_a_good_signature(
    manifest: Path, tree: Path, keys: tuple[Path, Path]
) -> None:
    out, err = _check(manifest, tree, keys[1])
    assert out.startswith("OK: ")
    assert "release 2026.11" in out
    assert err == ""


def test_an_injected_web_shell_and_html_page_are_added_files(
    manifest: Path, tree: Path, keys: tuple[Path, Path]
) -> None:
    (tree / "templates" / "shell.php").write_text("<?php system($_GET['c']); ?>")
    (tree / "security" / "slot-gacor.html").write_text("<h1>slot gacor maxwin</h1>")
    err = _check_fails(manifest, tree, keys[1])
    assert "ADDED templates/shell.php" in err
    assert "ADDED security/slot-gacor.html" in err


def test_a_defaced_template_is_a_changed_file(
    manifest: Path, tree: Path, keys: tuple[Path, Path]
) -> None:
    template = next(path for path in sorted(tree.rglob("*.html")) if path.is_file())
    name = template.relative_to(tree).as_posix()
    template.write_text(template.read_text() + '<a href="https://slot.example">togel</a>')
    err = _check_fails(manifest, tree, keys[1])
    assert f"CHANGED {name}" in err
    assert "ADDED" not in err


def test_a_deleted_file_is_a_removed_file(
    manifest: Path, tree: Path, keys: tuple[Path, Path]
) -> None:
    (tree / "security" / "cloaking.py").unlink()
    assert "REMOVED security/cloaking.py" in _check_fails(manifest, tree, keys[1])


def test_a_manifest_rewritten_by_an_intruder_has_a_bad_signature(
    manifest: Path, tree: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    (tree / "templates" / "shell.php").write_text("<?php eval($_POST['x']); ?>")
    # The intruder regenerates the manifest over the infected tree, with their own key.
    own_key = tmp_path / "intruder.key"
    own_key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    call_command(
        "integrity", "manifest", str(manifest), "--root", str(tree),
        "--signing-key", str(own_key), stdout=StringIO(),
    )  # fmt: skip
    assert "BAD SIGNATURE" in _check_fails(manifest, tree, keys[1])


def test_a_stripped_signature_fails_when_a_verify_key_is_configured(
    manifest: Path, tree: Path, keys: tuple[Path, Path]
) -> None:
    call_command("integrity", "manifest", str(manifest), "--root", str(tree), stdout=StringIO())
    assert "BAD SIGNATURE" in _check_fails(manifest, tree, keys[1])


def test_without_keys_the_manifest_is_unsigned_and_the_check_says_so(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TEPAT_INTEGRITY_SIGNING_KEY", "TEPAT_INTEGRITY_VERIFY_KEY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    output, out = tmp_path / "unsigned.json", StringIO()
    call_command("integrity", "manifest", str(output), "--root", str(tree), stdout=out)
    assert "UNSIGNED" in out.getvalue()
    checked, _ = _check(output, tree, None)
    assert "the manifest is UNSIGNED" in checked
    (tree / "templates" / "shell.php").write_text("<?php ?>")
    assert "ADDED templates/shell.php" in _check_fails(output, tree, None)


def test_the_keys_come_from_the_environment_files(
    tree: Path, keys: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEPAT_INTEGRITY_SIGNING_KEY_FILE", str(keys[0]))
    monkeypatch.setenv("TEPAT_INTEGRITY_VERIFY_KEY_FILE", str(keys[1]))
    output = tmp_path / "env.json"
    call_command("integrity", "manifest", str(output), "--root", str(tree), stdout=StringIO())
    assert "OK: " in _check(output, tree, None)[0]
    other = Ed25519PrivateKey.generate().public_key()
    keys[1].write_bytes(other.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    assert "BAD SIGNATURE" in _check_fails(output, tree, None)


class _CloakedSite(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        crawler = "Googlebot" in self.headers.get("User-Agent", "")
        page = "<h1>Slot gacor maxwin hari ini</h1>" if crawler else "<h1>Tepat</h1>"
        if self.path == "/honest":
            page = "<h1>Tepat</h1>"
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def cloaked_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CloakedSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_probe_flags_a_page_cloaked_for_the_crawler(cloaked_site: str) -> None:
    err = StringIO()
    with pytest.raises(CommandError, match="1 page"):
        call_command(
            "integrity", "probe", "--base-url", cloaked_site, "/", "/honest",
            stdout=StringIO(), stderr=err,
        )  # fmt: skip
    assert "another page than the browser (cloaking)" in err.getvalue()
    assert "gambling words in what the crawler sees: maxwin, slot gacor" in err.getvalue()
    assert "/honest" not in err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_tepats_own_login_page_and_home_pass_the_probe(live_server: object) -> None:
    out = StringIO()
    call_command("integrity", "probe", "--base-url", str(live_server), stdout=out)
    assert out.getvalue().count("OK, the crawler and the browser see one page") == 2
