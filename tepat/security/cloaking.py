"""Cloaked spam: a defaced site shows gambling pages to search engines and the normal page to
people, so nobody at the office notices while Google indexes *slot gacor*. The probe fetches a
public page once as Googlebot and once as a browser, and reports a difference (after taking out
the per-request CSRF token and CSP nonce) or gambling words in either answer."""

import re
import urllib.request
from dataclasses import dataclass, field
from urllib.error import URLError

CRAWLER_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BROWSER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/130.0 Safari/537.36"
)
# Words of the Indonesian online-gambling spam wave (field-realities.md); whole words only.
SPAM_WORDS = re.compile(
    r"\b(slot(?:\s*gacor|\d+)?|gacor|togel|judi|maxwin|jackpot|scatter|sbobet|"
    r"casino|kasino|bandar\s*togel|rtp\s*live|pragmatic\s*play|zeus)\b",
    re.IGNORECASE,
)
_PER_REQUEST = [
    (re.compile(r'(name="csrfmiddlewaretoken"\s+value=")[^"]*(")'), r"\1-\2"),
    (re.compile(r'(value=")[^"]*("\s+name="csrfmiddlewaretoken")'), r"\1-\2"),
    (re.compile(r'(\bnonce=")[^"]*(")'), r"\1-\2"),
    (re.compile(r'("csrfToken"\s*:\s*")[^"]*(")'), r"\1-\2"),
]
TIMEOUT_SECONDS = 10
MAX_BYTES = 2 * 1024 * 1024


@dataclass
class Probe:
    url: str
    problems: list[str] = field(default_factory=list)


def _fetch(url: str, agent: str) -> str:
    request = urllib.request.Request(url, headers={"User-Agent": agent})  # http(s) only  # noqa: S310
    # The scheme was checked in page_probe: http(s) only, never file:.
    opened = urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)  # noqa: S310  # nosec B310
    with opened as response:
        raw: bytes = response.read(MAX_BYTES)
    return raw.decode("utf-8", errors="replace")


def normalised(body: str) -> str:
    for pattern, replacement in _PER_REQUEST:
        body = pattern.sub(replacement, body)
    return body


def page_probe(url: str) -> Probe:
    probe = Probe(url)
    if not url.startswith(("http://", "https://")):
        probe.problems.append("only http:// and https:// addresses are probed")
        return probe
    bodies = {}
    for who, agent in (("crawler", CRAWLER_AGENT), ("browser", BROWSER_AGENT)):
        try:
            bodies[who] = _fetch(url, agent)
        except (URLError, OSError, ValueError) as failure:
            probe.problems.append(f"the {who} fetch failed: {failure}")
    for who, body in bodies.items():
        words = sorted({match.group(0).lower() for match in SPAM_WORDS.finditer(body)})
        if words:
            probe.problems.append(f"gambling words in what the {who} sees: {', '.join(words)}")
    if len(bodies) == 2 and normalised(bodies["crawler"]) != normalised(bodies["browser"]):
        probe.problems.append("the crawler is served another page than the browser (cloaking)")
    return probe
