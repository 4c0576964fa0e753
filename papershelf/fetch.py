"""Download Hugging Face daily papers into ``content/listings/`` as JSON listings.

``GET {base}/api/daily_papers?date=YYYY-MM-DD`` (or ``week=YYYY-Www``, ``month=YYYY-MM``)
returns a JSON array; it is checked with the same reader the build uses, then written
atomically to ``daily_papers_{kind}_{value}.json``. Fetching the same day again replaces
its file (upvotes change). 429 and 5xx answers and network errors are retried with
exponential backoff; nothing is written unless a whole, valid response arrived.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from . import __version__
from .errors import InputError
from .formats import parse_daily_papers

DEFAULT_BASE_URL = "https://huggingface.co"
API_PATH = "/api/daily_papers"
MAX_RETRY_AFTER = 60.0


class FetchError(Exception):
    """The papers could not be fetched; nothing was written."""


@dataclass(frozen=True)
class FetchResult:
    path: Path | None  # None when the API listed no papers
    papers: int
    replaced: bool
    attempts: int


def request_for(date: str | None, week: str | None, month: str | None) -> tuple[str, str]:
    """The one query parameter asked for, checked: ``("date", "2025-08-14")``."""
    given = [(k, v) for k, v in (("date", date), ("week", week), ("month", month)) if v]
    if len(given) != 1:
        raise FetchError("give exactly one of --date, --week or --month")
    kind, value = given[0]
    if kind == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise FetchError(f"--date {value!r} is not a date like 2025-08-14") from None
    elif kind == "week":
        match = re.fullmatch(r"(\d{4})-W(\d{2})", value)
        if not match or not 1 <= int(match[2]) <= 53:
            raise FetchError(f"--week {value!r} is not an ISO week like 2025-W33")
    else:
        match = re.fullmatch(r"(\d{4})-(\d{2})", value)
        if not match or not 1 <= int(match[2]) <= 12:
            raise FetchError(f"--month {value!r} is not a month like 2025-08")
    return kind, value


def file_name(kind: str, value: str) -> str:
    return f"daily_papers_{kind}_{value}.json"


def fetch_daily_papers(
    kind: str,
    value: str,
    listings_dir: Path,
    base_url: str = DEFAULT_BASE_URL,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda message: None,
) -> FetchResult:
    url = f"{base_url.rstrip('/')}{API_PATH}?{urlencode({kind: value})}"
    name = file_name(kind, value)
    body, attempts = _download(url, retries, backoff, timeout, sleep, log)
    try:
        text = body.decode("utf-8")
        listing = parse_daily_papers(text, name)
    except UnicodeDecodeError:
        raise FetchError(f"bad response from {url}: not UTF-8") from None
    except InputError as error:
        if "the JSON array is empty" in error.message:
            return FetchResult(None, 0, False, attempts)
        raise FetchError(f"bad response from {url}: {error}") from None

    listings_dir.mkdir(parents=True, exist_ok=True)
    path = listings_dir / name
    replaced = path.exists()
    temporary = listings_dir / f".{name}.tmp-{os.getpid()}"
    try:
        temporary.write_bytes(body)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return FetchResult(path, len(listing.entries), replaced, attempts)


def _download(url, retries, backoff, timeout, sleep, log) -> tuple[bytes, int]:
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": f"papershelf/{__version__}"}
    )
    for attempt in range(1, retries + 2):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read(), attempt
        except urllib.error.HTTPError as error:
            if error.code != 429 and error.code < 500:
                raise FetchError(f"{url}: HTTP {error.code} {error.reason}") from None
            problem = f"HTTP {error.code} {error.reason}"
            wait = _retry_after(error.headers.get("Retry-After"))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            problem = f"network error: {reason}"
            wait = None
        if attempt > retries:
            raise FetchError(f"{url}: {problem} (gave up after {attempt} attempts)")
        wait = wait if wait is not None else backoff * 2 ** (attempt - 1)
        log(f"{problem}; retrying in {wait:g} s (attempt {attempt + 1} of {retries + 1})")
        sleep(wait)
    raise AssertionError("unreachable")


def _retry_after(value: str | None) -> float | None:
    try:
        return min(float(value), MAX_RETRY_AFTER) if value else None
    except ValueError:
        return None
