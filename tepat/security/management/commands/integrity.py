"""``tepat integrity manifest|check|probe``: is the deployed code still what was released?

``manifest`` (at release, on the build machine) writes the hashes of every file of the installed
``tepat`` package, signed with the Ed25519 key in ``TEPAT_INTEGRITY_SIGNING_KEY(_FILE)``;
``check`` (on the server, from a timer) compares the tree with it, verifying the signature with
the public key in ``TEPAT_INTEGRITY_VERIFY_KEY(_FILE)``; ``probe`` fetches public pages as
Googlebot and as a browser. Any difference exits non-zero. See docs/deploy.md.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

import tepat
from tepat.env import env_str
from tepat.security.cloaking import page_probe
from tepat.security.manifest import (
    ManifestError,
    manifest_build,
    manifest_read,
    signature_valid,
    signing_key_load,
    tree_compare,
    verify_key_load,
)

PACKAGE_ROOT = Path(tepat.__file__).resolve().parent


class Command(BaseCommand):
    help = "Write or check the signed manifest of the deployed files; probe pages for cloaking."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        manifest = actions.add_parser("manifest", help="write the manifest (at release time)")
        manifest.add_argument("output", type=Path)
        manifest.add_argument("--release", default="", help="a release name to record")
        manifest.add_argument("--signing-key", type=Path, help="PEM Ed25519 private key")
        check = actions.add_parser("check", help="compare the deployed tree with the manifest")
        check.add_argument("manifest", type=Path)
        check.add_argument("--verify-key", type=Path, help="PEM Ed25519 public key")
        for sub in (manifest, check):
            sub.add_argument(
                "--root", type=Path, default=PACKAGE_ROOT, help="the tree (default: tepat)"
            )
        probe = actions.add_parser("probe", help="fetch pages as a crawler and as a browser")
        probe.add_argument("--base-url", required=True, help="e.g. https://tepat.example.go.id")
        probe.add_argument("paths", nargs="*", help="default: the login page and /")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            {"manifest": self._manifest, "check": self._check, "probe": self._probe}[
                options["action"]
            ](options)
        except ManifestError as failure:
            raise CommandError(str(failure)) from failure

    def _manifest(self, options: dict[str, Any]) -> None:
        pem = _pem(options["signing_key"], "TEPAT_INTEGRITY_SIGNING_KEY")
        key = signing_key_load(pem) if pem else None
        manifest = manifest_build(options["root"], release=options["release"], signing_key=key)
        options["output"].write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        signed = "signed (ed25519)" if key else "UNSIGNED: no signing key configured"
        self.stdout.write(
            f"{len(manifest['files'])} files written to {options['output']}, {signed}"
        )

    def _check(self, options: dict[str, Any]) -> None:
        manifest = manifest_read(options["manifest"])
        problems = []
        pem = _pem(options["verify_key"], "TEPAT_INTEGRITY_VERIFY_KEY")
        if pem:
            if not signature_valid(manifest, verify_key_load(pem)):
                problems.append("BAD SIGNATURE: the manifest was not signed by the release key")
        elif manifest.get("signature"):
            self.stdout.write("signature not verified: no verify key configured")
        else:
            self.stdout.write("the manifest is UNSIGNED: no verify key configured")
        differences = tree_compare(manifest, options["root"])
        problems += [f"ADDED {name}" for name in differences.added]
        problems += [f"CHANGED {name}" for name in differences.changed]
        problems += [f"REMOVED {name}" for name in differences.removed]
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"integrity check failed: {len(problems)} problem(s)")
        self.stdout.write(
            f"OK: {len(manifest['files'])} files match release {manifest.get('release') or '-'}"
        )

    def _probe(self, options: dict[str, Any]) -> None:
        base = options["base_url"].rstrip("/")
        paths = options["paths"] or [reverse("accounts:login"), "/"]
        failed = 0
        for path in paths:
            probe = page_probe(base + path)
            for problem in probe.problems:
                self.stderr.write(f"{probe.url}: {problem}")
            failed += bool(probe.problems)
            if not probe.problems:
                self.stdout.write(f"{probe.url}: OK, the crawler and the browser see one page")
        if failed:
            raise CommandError(f"cloaking probe failed on {failed} page(s)")


def _pem(path: Path | None, env_name: str) -> bytes:
    if path is not None:
        try:
            return path.read_bytes()
        except OSError as failure:
            raise ManifestError(f"cannot read the key {path}: {failure}") from failure
    return env_str(env_name, "").encode()
