"""Download Hugging Face daily papers into ``content/listings/`` as JSON listings.

``GET {base}/api/daily_papers?date=YYYY-MM-DD`` (or ``week=YYYY-Www``, ``month=YYYY-MM``)
returns a JSON array, written to ``daily_papers_{kind}_{value}.json``. Fetching the same
day again replaces its file (upvotes change).

The server is untrusted, so the work is bounded and every failure is a :class:`FetchError`
(the CLI prints it and exits 1) with nothing written:

- the download goes through :func:`papershelf.ingest.http.download`: retries with backoff
  honouring ``Retry-After``, an overall deadline, a maximum size read in chunks, redirects
  on the same origin only;
- the body is staged in a hidden directory and read there by
  :func:`papershelf.ingest.formats.read_listing`, the build's own reader, before it is moved into
  place: a file ``fetch`` wrote always builds.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from ..errors import FetchError, InputError
from .formats import read_listing
from .http import DownloadError, Limits, base_url_problem, download

DEFAULT_BASE_URL = "https://huggingface.co"
API_PATH = "/api/daily_papers"
DEFAULT_DEADLINE = 300.0  # seconds for the whole fetch, retries and waits included
DEFAULT_MAX_BYTES = 50_000_000  # a month of daily papers is a few MB


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


def api_url(base_url: str, kind: str, value: str) -> str:
    """The API's URL on ``base_url``, which must be an http(s) URL with a host."""
    problem = base_url_problem(base_url, "--base-url")
    if problem:
        raise FetchError(problem)
    return f"{base_url.rstrip('/')}{API_PATH}?{urlencode({kind: value})}"


def fetch_daily_papers(
    kind: str,
    value: str,
    listings_dir: Path,
    base_url: str = DEFAULT_BASE_URL,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 30.0,
    deadline: float = DEFAULT_DEADLINE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda message: None,
) -> FetchResult:
    """Download one listing and write it to ``listings_dir``, or raise :class:`FetchError`
    and write nothing.

    ``timeout`` bounds each socket operation; ``deadline`` bounds the whole fetch: every
    attempt, every wait between attempts and every read (a server trickling a byte at a
    time is cut off when it passes). A response longer than ``max_bytes`` is refused as
    soon as it is, without reading the rest. Redirects are followed on the same scheme,
    host and port only. The body is written to a temporary file, read there with
    :func:`papershelf.ingest.formats.read_listing` exactly as the build will read it, and only
    then moved into place: a file ``fetch`` wrote always builds.
    """
    url = api_url(base_url, kind, value)
    limits = Limits(retries, backoff, timeout, deadline, max_bytes)
    try:
        body, attempts = download(url, limits, sleep=sleep, log=log)
    except DownloadError as error:
        raise FetchError(str(error)) from None
    return _save(body, listings_dir, file_name(kind, value), url, attempts)


def _save(body: bytearray, listings_dir: Path, name: str, url: str, attempts: int) -> FetchResult:
    """Stage ``body`` in a hidden directory beside the listings (the build reads no
    subdirectory, so a fetch killed midway leaves nothing it would read), check it with the
    build's reader under its final name, then move it into place."""
    path = listings_dir / name
    try:
        listings_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=listings_dir))
    except OSError as error:
        raise FetchError(f"cannot write {path}: {error.strerror or error}") from None
    staged = staging / name
    try:
        staged.write_bytes(body)
        try:
            listing = read_listing(staged)
        except InputError as error:
            if "the JSON array is empty" in error.message:
                return FetchResult(None, 0, False, attempts)
            where = f"{name}:{error.line}" if error.line is not None else name
            raise FetchError(f"bad response from {url}: {where}: {error.message}") from None
        replaced = path.exists()
        os.replace(staged, path)
    except OSError as error:
        raise FetchError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        staged.unlink(missing_ok=True)
        staging.rmdir()
    return FetchResult(path, len(listing.entries), replaced, attempts)
