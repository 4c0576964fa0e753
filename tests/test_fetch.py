"""`build.py fetch` against a real HTTP server on 127.0.0.1 serving fixture responses."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from papershelf.cli import cli
from papershelf.formats import read_listing

from .conftest import FIXTURES

GOOD = (FIXTURES / "daily_papers.json").read_bytes()
NAME = "daily_papers_date_2025-08-14.json"


class Scripted(ThreadingHTTPServer):
    """Answers requests with the scripted responses in turn (the last one repeats)."""

    def __init__(self, responses):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responses = list(responses)
        self.requests: list[str] = []

    def next_response(self):
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        status, headers, body, delay = self.server.next_response()
        time.sleep(delay)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server(request):
    server = Scripted(request.param)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def ok(body=GOOD):
    return (200, {"Content-Type": "application/json"}, body, 0)


def fetch(server, listings, *extra):
    args = ["fetch", "--date", "2025-08-14", "--listings", str(listings)]
    args += ["--base-url", f"http://127.0.0.1:{server.server_address[1]}", "--backoff", "0.01"]
    return CliRunner().invoke(cli, args + list(extra), catch_exceptions=False)


@pytest.mark.parametrize("server", [[ok()]], indirect=True)
def test_fetch_writes_one_json_listing_per_request(server, tmp_path):
    result = fetch(server, tmp_path)
    assert result.exit_code == 0, result.output
    assert f"Wrote {tmp_path / NAME}: 3 papers for date 2025-08-14." in result.output
    assert server.requests == ["/api/daily_papers?date=2025-08-14"]
    assert (tmp_path / NAME).read_bytes() == GOOD
    assert len(read_listing(tmp_path / NAME).entries) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME]


@pytest.mark.parametrize("server", [[ok()]], indirect=True)
def test_fetching_the_same_day_again_replaces_its_file(server, tmp_path):
    (tmp_path / NAME).write_text("[]")
    result = fetch(server, tmp_path)
    assert f"Replaced {tmp_path / NAME}" in result.output
    assert (tmp_path / NAME).read_bytes() == GOOD


@pytest.mark.parametrize(
    "server", [[(429, {"Retry-After": "0"}, b"slow down", 0), ok()]], indirect=True
)
def test_429_then_200_retries_and_succeeds(server, tmp_path):
    result = fetch(server, tmp_path)
    assert result.exit_code == 0, result.output
    assert "HTTP 429 Too Many Requests; retrying in 0 s (attempt 2 of 5)" in result.output
    assert len(server.requests) == 2
    assert (tmp_path / NAME).read_bytes() == GOOD


@pytest.mark.parametrize("server", [[(500, {}, b"oops", 0)]], indirect=True)
def test_500_gives_up_after_the_retries_and_writes_nothing(server, tmp_path):
    (tmp_path / NAME).write_bytes(GOOD)
    result = fetch(server, tmp_path, "--retries", "2")
    assert result.exit_code == 1
    assert result.output.endswith(
        "/api/daily_papers?date=2025-08-14: HTTP 500 Internal Server Error "
        "(gave up after 3 attempts); nothing was written\n"
    )
    assert len(server.requests) == 3
    assert (tmp_path / NAME).read_bytes() == GOOD  # the previous file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME]


@pytest.mark.parametrize("server", [[(200, {}, GOOD, 1.5)]], indirect=True)
def test_timeout_is_a_clear_error_and_writes_nothing(server, tmp_path):
    result = fetch(server, tmp_path, "--retries", "1", "--timeout", "0.3")
    assert result.exit_code == 1
    assert "network error: timed out (gave up after 2 attempts); nothing was written" in (
        result.output
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("server", [[ok(b'[{"paper": {"title": "Cut off')]], indirect=True)
def test_malformed_json_is_a_bad_response_and_writes_nothing(server, tmp_path):
    result = fetch(server, tmp_path)
    assert result.exit_code == 1
    assert (
        f"bad response from http://127.0.0.1:{server.server_address[1]}/api/daily_papers"
        f"?date=2025-08-14: {NAME}:1: invalid JSON: Unterminated string" in result.output
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("server", [[(404, {}, b"not found", 0)]], indirect=True)
def test_client_errors_are_not_retried(server, tmp_path):
    result = fetch(server, tmp_path)
    assert result.exit_code == 1 and "HTTP 404 Not Found; nothing was written" in result.output
    assert len(server.requests) == 1


@pytest.mark.parametrize("server", [[ok(b"[]")]], indirect=True)
def test_a_day_without_papers_writes_nothing(server, tmp_path):
    result = fetch(server, tmp_path)
    assert result.exit_code == 0
    assert "No papers listed for date 2025-08-14; nothing written." in result.output
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ["fetch", "--date", "2025-08-14", "--listings", str(tmp_path), "--retries", "0"]
    result = CliRunner().invoke(cli, [*args, "--base-url", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert "network error: [Errno 111] Connection refused (gave up after 1 attempts)" in (
        result.output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2025-13-01"], "--date '2025-13-01' is not a date like 2025-08-14"),
        (["--week", "2025-W60"], "--week '2025-W60' is not an ISO week like 2025-W33"),
        (["--month", "2025-8"], "--month '2025-8' is not a month like 2025-08"),
        ([], "give exactly one of --date, --week or --month"),
        (["--date", "2025-08-14", "--month", "2025-08"], "give exactly one of"),
    ],
)
def test_bad_requests_are_refused(args, message, tmp_path):
    result = CliRunner().invoke(cli, ["fetch", "--listings", str(tmp_path), *args])
    assert result.exit_code == 1 and message in result.output


@pytest.mark.parametrize(
    "server", [[ok(), ok(b'[{"paper": {"title": "T", "summary": "S"}}]')]], indirect=True
)
def test_week_and_month_files_are_named_by_what_was_fetched(server, tmp_path):
    base = f"http://127.0.0.1:{server.server_address[1]}"
    runner = CliRunner()
    for option, value in (("--week", "2025-W33"), ("--month", "2025-08")):
        result = runner.invoke(
            cli, ["fetch", option, value, "--listings", str(tmp_path), "--base-url", base]
        )
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "daily_papers_month_2025-08.json",
        "daily_papers_week_2025-W33.json",
    ]
    assert server.requests == ["/api/daily_papers?week=2025-W33", "/api/daily_papers?month=2025-08"]
