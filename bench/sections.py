"""One `docs/performance.md`, several benchmarks: each owns a marked section of it.

The check-in benchmark renders the head of the file; every other benchmark replaces only the
text between its own markers, so re-running one never erases another's figures.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench import common

PERFORMANCE_MD = common.ROOT / "docs" / "performance.md"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def _section_pattern() -> re.Pattern[str]:
    return re.compile(
        r"<!-- bench:(?P<name>[a-z0-9_-]+):start -->.*?<!-- bench:(?P=name):end -->\n?", re.S
    )


def sections_read(text: str) -> list[str]:
    """Every marked section of `text`, markers included, in file order."""
    return [m.group(0).rstrip("\n") + "\n" for m in _section_pattern().finditer(text)]


def head_write(head: str, path: Path = PERFORMANCE_MD) -> None:
    """Replace everything outside the marked sections with `head`, keeping the sections."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = sections_read(old)
    path.write_text(head.rstrip("\n") + "\n" + "".join("\n" + s for s in kept), encoding="utf-8")


def section_write(name: str, markdown: str, path: Path = PERFORMANCE_MD) -> None:
    """Put `markdown` between `name`'s markers, appending the section if it is new."""
    start, end = _markers(name)
    block = f"{start}\n{markdown.strip()}\n{end}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _m: block, old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + block
    path.write_text(new, encoding="utf-8")


def publish(name: str, markdown: str, *, write: bool = True, path: Path = PERFORMANCE_MD) -> None:
    """Print a bench's section, and put it in ``path`` unless the run is a trial."""
    print(markdown)
    if write:
        section_write(name, markdown, path)
