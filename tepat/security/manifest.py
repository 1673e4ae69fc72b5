"""The release manifest: a SHA-256 hash and size for every file of the deployed package.

Written at release time (``tepat integrity manifest``) and compared with the tree on the server
(``tepat integrity check``): an injected web shell is an *added* file, a defaced template a
*changed* one, a deleted file *removed*. The manifest is signed with **Ed25519**: the private
key stays with whoever builds the release, the server holds only the public key, so an intruder
who can write the tree and the manifest still cannot sign a manifest of their own (an HMAC
would need its secret on the server to check, and whoever reads it can re-sign).
"""

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

FORMAT = 1
# Byte code is rebuilt by the interpreter on the server; everything else is deployed as built.
SKIPPED_DIRS = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})


class ManifestError(Exception):
    """The manifest cannot be read, or a key cannot be loaded."""


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    size: int


@dataclass
class Differences:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def none(self) -> bool:
        return not (self.added or self.changed or self.removed)


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if SKIPPED_DIRS.intersection(relative.parts[:-1]) or path.name in SKIPPED_DIRS:
            continue
        if path.is_file() and path.suffix not in SKIPPED_SUFFIXES:
            yield path


def tree_digests(root: Path) -> dict[str, FileDigest]:
    """Every file under ``root``, keyed by its POSIX path below it (a linked file by its target)."""
    digests = {}
    for path in _files(root):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 16), b""):
                digest.update(block)
        digests[path.relative_to(root).as_posix()] = FileDigest(
            digest.hexdigest(), path.stat().st_size
        )
    return digests


def _signed_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def manifest_build(
    root: Path, *, release: str, signing_key: Ed25519PrivateKey | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format": FORMAT,
        "release": release,
        "files": {
            name: {"sha256": digest.sha256, "size": digest.size}
            for name, digest in tree_digests(root).items()
        },
    }
    if signing_key is None:
        return {**body, "signature": None}
    signature = base64.b64encode(signing_key.sign(_signed_bytes(body))).decode()
    return {**body, "signature": {"algorithm": "ed25519", "value": signature}}


def manifest_read(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as failure:
        raise ManifestError(f"cannot read the manifest {path}: {failure}") from failure
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ManifestError(f"{path} is not a Tepat integrity manifest (format {FORMAT})")
    return manifest


def signature_valid(manifest: dict[str, Any], verify_key: Ed25519PublicKey) -> bool:
    signature = manifest.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != "ed25519":
        return False
    body = {key: value for key, value in manifest.items() if key != "signature"}
    try:
        verify_key.verify(base64.b64decode(signature.get("value", "")), _signed_bytes(body))
    except (InvalidSignature, ValueError):
        return False
    return True


def tree_compare(manifest: dict[str, Any], root: Path) -> Differences:
    expected = manifest.get("files", {})
    found = tree_digests(root)
    differences = Differences()
    for name in sorted(found.keys() - expected.keys()):
        differences.added.append(name)
    for name in sorted(expected.keys() - found.keys()):
        differences.removed.append(name)
    for name in sorted(found.keys() & expected.keys()):
        digest = found[name]
        if (digest.sha256, digest.size) != (expected[name]["sha256"], expected[name]["size"]):
            differences.changed.append(name)
    return differences


def signing_key_load(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as failure:
        raise ManifestError(f"the signing key is not a PEM private key: {failure}") from failure
    if not isinstance(key, Ed25519PrivateKey):
        raise ManifestError("the signing key must be an Ed25519 private key")
    return key


def verify_key_load(pem: bytes) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(pem)
    except (ValueError, TypeError) as failure:
        raise ManifestError(f"the verify key is not a PEM public key: {failure}") from failure
    if not isinstance(key, Ed25519PublicKey):
        raise ManifestError("the verify key must be an Ed25519 public key")
    return key
