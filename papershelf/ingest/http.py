"""A bounded HTTP client for untrusted servers: ``fetch`` and ``enrich`` both use it.

:func:`download` GETs one URL and returns its body, or raises :class:`DownloadError` with
one line saying why:

- 429 and 5xx answers, network errors and broken HTTP (a short body, a bad status line)
  are retried with exponential backoff, honouring ``Retry-After``;
- a deadline covers every attempt, read and wait: a server trickling a byte at a time is
  cut off, and a retry whose wait would pass the deadline is not made;
- the body is read in chunks up to a maximum size, so memory stays bounded;
- redirects are followed on the same scheme, host and port only.

Server text in messages (reasons, hosts) is shown escaped, never raw.
"""

from __future__ import annotations

import functools
import http.client
import io
import math
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import __version__

MAX_RETRY_AFTER = 60.0
CHUNK_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}


class DownloadError(Exception):
    """The URL could not be downloaded within the limits. ``out_of_time`` says the deadline
    (not this URL) was the reason: a caller with more URLs to ask stops there."""

    def __init__(self, message: str, out_of_time: bool = False):
        super().__init__(message)
        self.out_of_time = out_of_time


def base_url_problem(base_url: str, option: str) -> str | None:
    """Why ``base_url`` (given as ``option``) is not an http(s) URL with a host, or None."""
    parts = urlsplit(base_url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return f"{option} {base_url!r} has an invalid port"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"{option} {base_url!r} is not an http:// or https:// URL"
    return None


@dataclass(frozen=True)
class Limits:
    retries: int
    backoff: float  # seconds before the first retry; doubles
    timeout: float  # seconds, per socket operation
    deadline: float  # seconds, for the whole download (or the caller's whole run)
    max_bytes: int


def download(
    url: str,
    limits: Limits,
    *,
    accept: str = "application/json",
    ends_at: float | None = None,
    url_option: str = "--base-url",
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda message: None,
) -> tuple[bytearray, int]:
    """The body of ``url`` and the number of attempts it took, within ``limits``; or
    :class:`DownloadError`.

    The deadline ends ``limits.deadline`` seconds from now, or at ``ends_at`` (a
    :func:`time.monotonic` time) for a caller whose deadline covers many downloads.
    ``url_option`` is the option that names the server, for the message that refuses a
    redirect to another host.
    """
    request = urllib.request.Request(
        url, headers={"Accept": accept, "User-Agent": f"papershelf/{__version__}"}
    )
    if ends_at is None:
        ends_at = time.monotonic() + limits.deadline
    opener = urllib.request.build_opener(
        _SameOriginRedirects(url_option), _HTTPHandler(ends_at), _HTTPSHandler(ends_at)
    )
    for attempt in range(1, limits.retries + 2):
        try:
            return _attempt(opener, request, limits, ends_at), attempt
        except _Retryable as failure:
            problem = failure.problem
            wait = failure.wait if failure.wait is not None else limits.backoff * 2 ** (attempt - 1)
        if attempt > limits.retries:
            raise DownloadError(f"{url}: {problem} (gave up after {attempt} attempts)")
        if time.monotonic() + wait >= ends_at:
            raise DownloadError(
                f"{url}: {problem}; gave up after {attempt} attempts: retrying in {wait:g} s "
                f"would pass the --deadline of {limits.deadline:g} s",
                out_of_time=True,
            )
        log(f"{problem}; retrying in {wait:g} s (attempt {attempt + 1} of {limits.retries + 1})")
        sleep(wait)
    raise AssertionError("unreachable")


class _Retryable(Exception):
    """An attempt failed in a way another attempt may not: 429, 5xx or the network."""

    def __init__(self, problem: str, wait: float | None = None):
        super().__init__(problem)
        self.problem, self.wait = problem, wait  # wait: what Retry-After asked, if anything


def _attempt(opener, request: urllib.request.Request, limits: Limits, ends_at: float):
    """One request: its body, or :class:`_Retryable`, or :class:`DownloadError`."""
    url = request.full_url
    too_late = f"{url}: no complete response within the --deadline of {limits.deadline:g} s"
    left = ends_at - time.monotonic()
    if left <= 0:
        raise DownloadError(too_late, out_of_time=True)
    try:
        with opener.open(request, timeout=min(limits.timeout, left)) as response:
            return _read_body(response, url, limits.max_bytes)
    except urllib.error.HTTPError as error:
        error.close()
        problem = f"HTTP {error.code} {_printable(str(error.reason))}"
        if error.code != 429 and error.code < 500:
            raise DownloadError(f"{url}: {problem}") from None
        raise _Retryable(problem, _retry_after(error.headers.get("Retry-After"))) from None
    except (OSError, http.client.HTTPException) as error:
        # A read cut off by the deadline surfaces as a timeout or a short body.
        if time.monotonic() >= ends_at:
            raise DownloadError(too_late, out_of_time=True) from None
        raise _Retryable(f"network error: {_reason(error)}") from None


def _read_body(response: http.client.HTTPResponse, url: str, max_bytes: int) -> bytearray:
    """The body, read a chunk at a time so that memory stays bounded by ``max_bytes``
    (and returned as it was read: a copy would double it)."""
    too_large = f"{url}: the response is larger than --max-bytes ({max_bytes} bytes)"
    if response.length is not None and response.length > max_bytes:  # from Content-Length
        raise DownloadError(too_large)
    body = bytearray()
    while chunk := response.read(CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise DownloadError(too_large)
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

    def __init__(self, url_option: str):
        super().__init__()
        self.url_option = url_option  # the option that names the server, for the message

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if _origin(newurl) != _origin(req.full_url):
            fp.close()
            parts = urlsplit(newurl)
            target = _printable(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}")
            raise DownloadError(
                f"{req.full_url}: redirected to other host {target}; refusing "
                f"(pass {self.url_option} {target} to fetch from it)"
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
