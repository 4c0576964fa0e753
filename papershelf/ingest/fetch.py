"""Download Hugging Face daily papers into ``content/listings/`` as JSON listings.

``GET {base}/api/daily_papers?date=YYYY-MM-DD`` (or ``week=YYYY-Www``, ``month=YYYY-MM``)
returns a JSON array, written to ``daily_papers_{kind}_{value}.json``. Fetching the same
day again replaces its file (upvotes change).

The server is untrusted, so the work is bounded and every failure is a :class:`FetchError`
(the CLI prints it and exits 1) with nothing written:

- 429 and 5xx answers, network errors and broken HTTP (a short body, a bad status line)
  are retried with exponential backoff, honouring ``Retry-After``;
- an overall deadline covers every attempt, read and wait: a server trickling a byte at a
  time is cut off, and a retry whose wait would pass the deadline is not made;
- the body is read in chunks up to a maximum size, so memory stays bounded;
- redirects are followed on the same scheme, host and port only;
- the body is staged in a hidden directory and read there by
  :func:`papershelf.ingest.formats.read_listing`, the build's own reader, before it is moved into
  place: a file ``fetch`` wrote always builds.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.client
import io
import math
import os
import re
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from .. import __version__
from ..errors import InputError
from .formats import read_listing

DEFAULT_BASE_URL = "https://huggingface.co"
API_PATH = "/api/daily_papers"
MAX_RETRY_AFTER = 60.0
DEFAULT_DEADLINE = 300.0  # seconds for the whole fetch, retries and waits included
DEFAULT_MAX_BYTES = 50_000_000  # a month of daily papers is a few MB
CHUNK_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}


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


def api_url(base_url: str, kind: str, value: str) -> str:
    """The API's URL on ``base_url``, which must be an http(s) URL with a host."""
    parts = urlsplit(base_url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise FetchError(f"--base-url {base_url!r} has an invalid port") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(f"--base-url {base_url!r} is not an http:// or https:// URL")
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
    limits = _Limits(retries, backoff, timeout, deadline, max_bytes)
    body, attempts = _download(url, limits, sleep, log)
    return _save(body, listings_dir, file_name(kind, value), url, attempts)


@dataclass(frozen=True)
class _Limits:
    retries: int
    backoff: float
    timeout: float  # seconds, per socket operation
    deadline: float  # seconds, for the whole download
    max_bytes: int


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


def _download(url: str, limits: _Limits, sleep, log) -> tuple[bytearray, int]:
    """The body and the number of attempts it took, within ``limits``."""
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": f"papershelf/{__version__}"}
    )
    ends_at = time.monotonic() + limits.deadline
    opener = urllib.request.build_opener(
        _SameOriginRedirects, _HTTPHandler(ends_at), _HTTPSHandler(ends_at)
    )
    for attempt in range(1, limits.retries + 2):
        try:
            return _attempt(opener, request, limits, ends_at), attempt
        except _Retryable as failure:
            problem = failure.problem
            wait = failure.wait if failure.wait is not None else limits.backoff * 2 ** (attempt - 1)
        if attempt > limits.retries:
            raise FetchError(f"{url}: {problem} (gave up after {attempt} attempts)")
        if time.monotonic() + wait >= ends_at:
            raise FetchError(
                f"{url}: {problem}; gave up after {attempt} attempts: retrying in {wait:g} s "
                f"would pass the --deadline of {limits.deadline:g} s"
            )
        log(f"{problem}; retrying in {wait:g} s (attempt {attempt + 1} of {limits.retries + 1})")
        sleep(wait)
    raise AssertionError("unreachable")


class _Retryable(Exception):
    """An attempt failed in a way another attempt may not: 429, 5xx or the network."""

    def __init__(self, problem: str, wait: float | None = None):
        super().__init__(problem)
        self.problem, self.wait = problem, wait  # wait: what Retry-After asked, if anything


def _attempt(opener, request: urllib.request.Request, limits: _Limits, ends_at: float):
    """One request: its body, or :class:`_Retryable`, or :class:`FetchError`."""
    url = request.full_url
    too_late = f"{url}: no complete response within the --deadline of {limits.deadline:g} s"
    left = ends_at - time.monotonic()
    if left <= 0:
        raise FetchError(too_late)
    try:
        with opener.open(request, timeout=min(limits.timeout, left)) as response:
            return _read_body(response, url, limits.max_bytes)
    except urllib.error.HTTPError as error:
        error.close()
        problem = f"HTTP {error.code} {_printable(str(error.reason))}"
        if error.code != 429 and error.code < 500:
            raise FetchError(f"{url}: {problem}") from None
        raise _Retryable(problem, _retry_after(error.headers.get("Retry-After"))) from None
    except (OSError, http.client.HTTPException) as error:
        # A read cut off by the deadline surfaces as a timeout or a short body.
        if time.monotonic() >= ends_at:
            raise FetchError(too_late) from None
        raise _Retryable(f"network error: {_reason(error)}") from None


def _read_body(response: http.client.HTTPResponse, url: str, max_bytes: int) -> bytearray:
    """The body, read a chunk at a time so that memory stays bounded by ``max_bytes``
    (and returned as it was read: a copy would double it)."""
    too_large = f"{url}: the response is larger than --max-bytes ({max_bytes} bytes)"
    if response.length is not None and response.length > max_bytes:  # from Content-Length
        raise FetchError(too_large)
    body = bytearray()
    while chunk := response.read(CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(too_large)
    if response.length:
        # http.client ends a short body quietly when it is read in chunks: the bytes
        # Content-Length announced and never came are still counted here.
        raise http.client.IncompleteRead(bytes(body), response.length)
    return body


def _reason(error: BaseException) -> str:
    """Why a request failed, in one line: server text is shown escaped, never raw."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, http.client.HTTPException):
        return _printable(repr(reason))  # the class says what broke: BadStatusLine('…')
    return _printable(str(reason))


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _retry_after(value: str | None) -> float | None:
    """The wait ``Retry-After`` asks for in seconds, capped; None for anything else (an
    HTTP date, a negative number, NaN), which falls back to the backoff."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    if seconds is None or not 0 <= seconds < math.inf:  # NaN fails both comparisons
        return None
    return min(seconds, MAX_RETRY_AFTER)


# ---- Redirects and the deadline, as urllib handlers -------------------------------------


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, parts.hostname or "", port


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect on the scheme, host and port asked; refuses one elsewhere, which
    would fetch from a server the user did not name."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if _origin(newurl) != _origin(req.full_url):
            fp.close()
            parts = urlsplit(newurl)
            target = _printable(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}")
            raise FetchError(
                f"{req.full_url}: redirected to other host {target}; refusing "
                f"(pass --base-url {target} to fetch from it)"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _DeadlineReader(io.RawIOBase):
    """The response side of a socket, each read waiting no later than ``ends_at``. A
    per-read timeout alone lets a server that sends a byte now and then (in the status
    line, the headers or the body) hold the fetch for ever."""

    def __init__(self, sock: socket.socket, ends_at: float, timeout: float | None):
        super().__init__()
        self._sock, self._ends_at, self._timeout = sock, ends_at, timeout
        self._raw = sock.makefile("rb", buffering=0)  # keeps the socket open until closed

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self._ends_at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed")
        self._sock.settimeout(left if self._timeout is None else min(self._timeout, left))
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineSocket:
    """A connected socket whose responses are read through :class:`_DeadlineReader`."""

    def __init__(self, sock: socket.socket, ends_at: float, timeout: float | None):
        self._sock, self._ends_at, self._timeout = sock, ends_at, timeout

    def makefile(self, mode: str = "rb", *args, **kwargs):
        return io.BufferedReader(_DeadlineReader(self._sock, self._ends_at, self._timeout))

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


class _DeadlineConnection:
    """Mixin for http.client's connections: read responses through :class:`_DeadlineSocket`."""

    def __init__(self, *args, ends_at: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.ends_at = ends_at

    def connect(self) -> None:
        super().connect()  # for HTTPS, the TLS handshake too
        self.sock = _DeadlineSocket(self.sock, self.ends_at, self.timeout)


class _HTTPConnection(_DeadlineConnection, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineConnection, http.client.HTTPSConnection):
    pass


class _DeadlineHandler:
    """Mixin for urllib's handlers: open connections that stop reading at ``ends_at``."""

    _connections = {
        http.client.HTTPConnection: _HTTPConnection,
        http.client.HTTPSConnection: _HTTPSConnection,
    }

    def __init__(self, ends_at: float, **kwargs):
        super().__init__(**kwargs)
        self.ends_at = ends_at

    def do_open(self, http_class, req, **kwargs):
        connection = functools.partial(self._connections[http_class], ends_at=self.ends_at)
        return super().do_open(connection, req, **kwargs)


class _HTTPHandler(_DeadlineHandler, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_DeadlineHandler, urllib.request.HTTPSHandler):
    pass
