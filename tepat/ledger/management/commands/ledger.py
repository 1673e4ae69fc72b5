"""``tepat ledger seal`` extends the hash chains; ``tepat ledger verify`` recomputes them.

Run ``seal`` every few minutes (systemd timer, docs/deploy.md) and ``verify`` nightly; copy the
printed head hashes somewhere off the server (a chain recomputed by someone holding database
rights still differs from them: ``verify --anchor CHAIN:ROW:HASH``)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.ledger.chains import CHAINS
from tepat.ledger.selectors import ledger_verify
from tepat.ledger.services import ledger_seal


class Command(BaseCommand):
    help = "Seal or verify the tamper-evident hash chains (check-ins, audit trail, TPP results)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["seal", "verify"])
        parser.add_argument("--chain", choices=sorted(CHAINS), action="append")
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="CHAIN:ROW:HASH",
            help="a head printed earlier and kept off the server; verify fails if it differs",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chains = [CHAINS[name] for name in options["chain"] or sorted(CHAINS)]
        if options["action"] == "seal":
            for chain in chains:
                count = ledger_seal(chain)
                self.stdout.write(f"{chain.name}: {count} rows sealed")
            return
        anchors = _anchors(options["anchor"])
        failed = []
        for chain in chains:
            verdict = ledger_verify(chain, anchors=anchors.get(chain.name, {}))
            if verdict.intact:
                self.stdout.write(
                    f"{chain.name}: OK, {verdict.checked} rows checked, "
                    f"{verdict.unsealed} not sealed yet; "
                    f"head {chain.name}:{verdict.head_row}:{verdict.head_hash}"
                )
            else:
                failed.extend(verdict.problems)
                for problem in verdict.problems:
                    self.stderr.write(f"TAMPERED {problem}")
        if failed:
            raise CommandError(f"ledger verification failed: {failed[0]}")


def _anchors(values: list[str]) -> dict[str, dict[int, str]]:
    found: dict[str, dict[int, str]] = {}
    for value in values:
        name, _, rest = value.partition(":")
        row, _, digest = rest.partition(":")
        if name not in CHAINS or not row.isdigit() or len(digest) != 64:
            raise CommandError(f"--anchor must be CHAIN:ROW:HASH, not {value!r}")
        found.setdefault(name, {})[int(row)] = digest
    return found
