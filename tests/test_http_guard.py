"""Issue 21's findings against a served app (tiny model, loopback), each reproduced as an outside caller
would: exports after deletion, wrong types, long values, tracebacks in the log, /new_learner floods,
cross-site requests and headers, retried requests. Every test failed before its fix.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import soundfile as sf
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from launching import serve_app
from speaksphere.coach import settings_with_model
from speaksphere.pronounce.references import LIBRARY_DIR, library
from speaksphere.settings import Settings

NEW_LEARNERS_PER_MINUTE = 6
PHRASE = next(p for p in library("en") if p.id == "en-auth-incorrect")


@pytest.fixture(scope="module")
def served(tiny_model_dir, database):
    settings = settings_with_model(Settings(), tiny_model_dir)
    settings = replace(settings, server=replace(settings.server, new_learners_per_minute=NEW_LEARNERS_PER_MINUTE,
                                                allowed_hosts=("speak.example",)))  # a proxy in front passes it on
    with serve_app(settings, database) as demo:
        yield demo


@pytest.fixture(scope="module")
def client(served):
    return Client(served.local_url, verbose=False)


@pytest.fixture(scope="module")
def learner(client):
    return client.predict(api_name="/new_learner")


def rows(database, table: str) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_exports_are_gone_after_the_learner_is_deleted(served, client):
    """Finding 6: the exported file stayed downloadable (gradio's served copy) after /delete_learner."""
    learner = client.predict(api_name="/new_learner")
    links = Client(served.local_url, verbose=False, download_files=False)
    exported = [links.predict(learner, fmt, api_name="/export") for fmt in ("json", "csv")]
    for file in exported:
        assert httpx.get(file["url"]).status_code == 200
        assert learner not in file["url"]  # the id, the learner's only key, is not in any address
    client.predict(learner, True, api_name="/delete_learner")
    for file in exported:
        assert httpx.get(file["url"]).status_code in (403, 404)
        assert not Path(file["path"]).exists()


@pytest.mark.parametrize("call, words", [
    (lambda c, me: c.predict(me, 5, api_name="/recommend"), "language must be text"),
    # gradio makes the list the text "['x']"
    (lambda c, me: c.predict(["x"], api_name="/history"), "learner id is not valid"),
    (lambda c, me: c.predict(me, "x" * 200, api_name="/recommend"), "longer than 16 characters"),
    (lambda c, me: c.predict(None, "p" * 500, "", "en", None, "", None, api_name="/pronounce"),
     "record or upload"),
], ids=["language-number", "learner-list", "language-long", "attempt-missing"])
def test_wrong_types_and_long_values_get_a_clear_message_without_echo(client, learner, call, words):
    """Low: wrong types answered "Something went wrong"; a 10,000-character value came back in the error."""
    with pytest.raises(AppError) as refused:
        call(client, learner)
    message = str(refused.value)
    assert words in message and "went wrong" not in message
    assert "x" * 20 not in message and "p" * 20 not in message


def test_an_overlong_value_is_refused_before_gradio_reads_it(served, client, learner, capfd):
    """Gradio's own input checks echoed a 10,000-character export format back in full."""
    with pytest.raises(httpx.HTTPStatusError, match="413"):
        client.predict(learner, "y" * 10_000, api_name="/export")
    answer = httpx.post(f"{served.local_url}gradio_api/call/export", json={"data": [learner, "y" * 10_000]})
    assert answer.status_code == 413 and "yyyy" not in answer.text and "1000 characters" in answer.json()["error"]


def test_a_refusal_logs_one_line_not_a_traceback(client, learner, capfd, caplog):
    """Low: every refusal printed a full traceback (282 in one review run)."""
    caplog.set_level(logging.INFO, logger="speaksphere.app")
    capfd.readouterr()
    with pytest.raises(AppError, match="Tick the box"):
        client.predict(learner, False, api_name="/delete_learner")
    assert "Traceback" not in capfd.readouterr().err
    assert any("refused delete_learner" in r.getMessage() for r in caplog.records)


def test_new_learner_ids_are_rate_limited_per_address(client, database):
    """Low: /new_learner handed out 200 ids in 10 s; each is a row in the database."""
    answers = []
    for _ in range(NEW_LEARNERS_PER_MINUTE + 3):
        try:
            answers.append(client.predict(api_name="/new_learner"))
        except AppError as refused:
            answers.append(str(refused))
    refusals = [a for a in answers if "Too many new learner ids" in a]
    assert 3 <= len(refusals) <= NEW_LEARNERS_PER_MINUTE + 3  # the module's earlier ids count too
    before = rows(database, "learners")
    with pytest.raises(AppError, match="wait a minute"):
        client.predict(api_name="/new_learner")
    assert rows(database, "learners") == before


def test_other_websites_cannot_call_the_app_from_a_browser(served, learner, database):
    """Low: uploads accepted from any Origin; CORS granted any http://localhost:* page, with credentials."""
    url = served.local_url
    before = rows(database, "recommendations")
    for origin in ("http://localhost:3000", "https://evil.example", "null"):
        post = httpx.post(f"{url}gradio_api/call/recommend", json={"data": [learner, "en"]}, headers={"Origin": origin})
        assert post.status_code == 403
        upload = httpx.post(f"{url}gradio_api/upload", files={"files": ("a.wav", b"RIFF")}, headers={"Origin": origin})
        assert upload.status_code == 403
        read = httpx.get(f"{url}gradio_api/info", headers={"Origin": origin})
        assert "access-control-allow-origin" not in read.headers
    assert rows(database, "recommendations") == before
    same = httpx.post(f"{url}gradio_api/call/recommend", json={"data": [learner, "en"]},
                      headers={"Origin": url.rstrip("/")})
    assert same.status_code == 200  # the app's own page still works


def test_responses_say_who_may_frame_the_app(served):
    """Low: no X-Frame-Options or Content-Security-Policy; then any Space (https://*.hf.space) could frame
    the app over "Delete my data"."""
    page = httpx.get(served.local_url)
    assert page.headers["content-security-policy"] == "frame-ancestors 'self' https://huggingface.co"
    assert page.headers["x-frame-options"] == "SAMEORIGIN" and page.headers["x-content-type-options"] == "nosniff"


def test_only_the_apps_own_space_may_frame_it(monkeypatch):
    from speaksphere.app.guard import frame_ancestors

    monkeypatch.setenv("SPACE_HOST", "speaksphere-app.hf.space")
    assert frame_ancestors() == "'self' https://huggingface.co https://speaksphere-app.hf.space"
    assert "*" not in frame_ancestors()


def test_a_retried_attempt_is_stored_once(client, learner, database):
    """Low: a request retried after a crash wrote twice."""
    before = rows(database, "attempts")
    native = handle_file(str(LIBRARY_DIR / PHRASE.file))
    for _ in range(2):
        client.predict(native, PHRASE.id, "", "en", None, learner, None, api_name="/pronounce")
    assert rows(database, "attempts") == before + 1


def test_a_300_digit_text_is_refused_before_synthesis(client, tmp_path, speech):
    """Low: a 300-digit text synthesised an 86-s reference (and cached it)."""
    path = tmp_path / "attempt.wav"
    sf.write(path, *speech)
    with pytest.raises(AppError, match="(?i)digits|numbers"):
        client.predict(handle_file(str(path)), "", "1" * 300, "en", None, "", None, api_name="/pronounce")


@pytest.mark.parametrize("body, headers", [
    (b"[" * 340 + b"]" * 340, {"Content-Type": "application/json"}),  # crashed the guard (RecursionError: a 500)
    (b'{"data": ["' + b"y" * 5000 + b'"]}', {}),  # no content type: FastAPI still parses JSON
    (b'{"data": ["' + b"y" * 5000 + b'"]}', {"Content-Type": "Application/JSON"}),
    (b'{"data": ["' + b"y" * 70_000 + b'"]}', {"Content-Type": "application/json"}),
], ids=["deeply-nested", "no-content-type", "upper-case-type", "over-64-kb"])
def test_odd_calls_are_refused_cleanly(served, body, headers):
    answer = httpx.post(f"{served.local_url}gradio_api/call/recommend", content=body, headers=headers)
    assert answer.status_code == 413 and "yyyy" not in answer.text


def test_the_apps_own_pages_are_recognised_behind_proxies(served, learner):
    url = f"{served.local_url}gradio_api/call/recommend"
    call = {"data": [learner, "en"]}
    host = httpx.URL(served.local_url).netloc.decode()
    assert httpx.post(url, json=call, headers={"Origin": "https://speak.example", "Sec-Fetch-Site": "same-origin"}
                      ).status_code == 200  # the browser itself says the page is ours
    assert httpx.post(url, json=call, headers={"Origin": "https://speak.example",
                                               "X-Forwarded-Host": "speak.example, proxy.internal"}).status_code == 200
    assert httpx.post(url, json=call, headers={"Origin": "https://speak.example", "Host": "speak.example:443"}
                      ).status_code == 200
    assert httpx.post(url, json=call, headers={"Origin": "https://speak.example", "Sec-Fetch-Site": "cross-site",
                                               "Host": host}).status_code == 403


def test_the_rate_limit_keys_the_caller_not_the_proxy():
    from types import SimpleNamespace as Request

    from speaksphere.app.api import _client, trusted_networks

    proxies = trusted_networks(("10.0.0.0/8",))
    behind_proxy = Request(client=Request(host="10.0.0.5"), headers={"x-forwarded-for": "6.6.6.6, 5.6.7.8, 10.1.1.1"})
    assert _client(behind_proxy, proxies) == "5.6.7.8"  # the last hop outside the proxies; 6.6.6.6 is a claim
    direct = Request(client=Request(host="8.8.8.8"), headers={"x-forwarded-for": "1.2.3.4"})
    assert _client(direct, proxies) == "8.8.8.8"  # not from a trusted proxy: the header is the caller's own claim
    # medium/low finding: from loopback, rotating X-Forwarded-For gave every request a new address
    spoofed = Request(client=Request(host="127.0.0.1"), headers={"x-forwarded-for": "203.0.113.7"})
    assert _client(spoofed) == "127.0.0.1" and _client(behind_proxy) == "10.0.0.5"  # no proxy named: none trusted
    mapped = Request(client=Request(host="::ffff:10.0.0.5"), headers={"x-forwarded-for": "5.6.7.8"})
    assert _client(mapped, proxies) == "5.6.7.8"  # the proxy seen as an IPv4-mapped IPv6 address
    assert _client(Request(client=Request(host="2a00:1450:4001:81c::200e"), headers={})) == "2a00:1450:4001:81c::/64"


def test_a_space_trusts_its_own_proxy_only_when_none_is_named(monkeypatch):
    from speaksphere.app.api import trusted_networks

    assert trusted_networks(()) == ()
    monkeypatch.setenv("SPACE_ID", "someone/speaksphere")
    assert any(str(n) == "10.0.0.0/8" for n in trusted_networks(()))
    assert [str(n) for n in trusted_networks(("192.0.2.1",))] == ["192.0.2.1/32"]


def test_one_oversized_upload_request_stores_nothing(served):
    """High: the guard let multipart uploads through, and gradio allows 1,000 files of 64 MB a request (16
    parts of 60 MiB were stored in 13 s). A request larger than one recording, or of unstated length, is
    refused before its body is read."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(served.local_url)
    head = (f"POST /gradio_api/upload HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: {960 << 20}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n\r\n").encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as connection:
        connection.sendall(head + b"--x\r\n")  # the rest of the 960 MiB never comes
        answer = b""
        while b"one recording" not in answer and len(answer) < 16384:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
        answer = answer.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413") and "one recording" in answer
    small = httpx.post(f"{served.local_url}gradio_api/upload", files={"files": ("a.wav", b"RIFF" * 100)})
    assert small.status_code == 200  # an ordinary upload still goes through


def test_gradios_monitoring_pages_are_not_public(served, capfd):
    """Low: /monitoring/summary (queue statistics) was public, and /monitoring logged the key to its dashboard."""
    for path in ("monitoring", "monitoring/summary", "monitoring/", "monitoring/some-key/dashboard"):
        assert httpx.get(f"{served.local_url}{path}").status_code == 404
    assert "monitoring" not in capfd.readouterr().out


def test_a_local_app_answers_only_its_own_host_names(served, learner):
    """Low: the Host header was never checked, so a page whose name an attacker points at 127.0.0.1 (DNS
    rebinding) could call a local install as its own origin."""
    port = httpx.URL(served.local_url).port
    call = {"data": [learner, "en"]}
    for host in (f"evil.example:{port}", "evil.example", "127.0.0.1.evil.example", ""):
        answer = httpx.post(f"{served.local_url}gradio_api/call/recommend", json=call,
                            headers={"Host": host, "Origin": f"http://{host}"})
        assert answer.status_code == 421 and "own address" in answer.json()["error"], host
        assert httpx.get(served.local_url, headers={"Host": host}).status_code == 421
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "speak.example"):
        assert httpx.get(served.local_url, headers={"Host": host}).status_code == 200, host


def test_gradios_queue_and_streaming_routes_check_the_host_name_too(served, learner):
    """Issue 41: the Host check on the routes gradio 6 streams on (its queue's server-sent events, /call's
    answers, /stream, heartbeats, uploads) and on a websocket handshake, each with a foreign Host."""
    port = httpx.URL(served.local_url).port
    api = f"{served.local_url}gradio_api/"
    session = "hostcheck01"
    join = {"data": [learner, "en"], "fn_index": None, "session_hash": session, "event_data": None}
    for host in (f"evil.example:{port}", "127.0.0.1.evil.example"):
        headers = {"Host": host}
        answers = [
            httpx.post(f"{api}queue/join", json={**join, "fn_index": 0}, headers=headers),
            httpx.get(f"{api}queue/data", params={"session_hash": session}, headers=headers),
            httpx.get(f"{api}heartbeat/{session}", headers=headers),
            httpx.get(f"{api}call/recommend/0123456789abcdef", headers=headers),
            httpx.post(f"{api}stream/0123456789abcdef", headers=headers),
            httpx.get(f"{api}upload_progress", params={"upload_id": "x"}, headers=headers),
            httpx.post(f"{api}upload", files={"files": ("a.wav", b"RIFF")}, headers=headers),
            httpx.get(f"{api}queue/data", params={"session_hash": session},  # a websocket handshake, sent as HTTP
                      headers={**headers, "Connection": "Upgrade", "Upgrade": "websocket",
                               "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}),
        ]
        assert [a.status_code for a in answers] == [421] * len(answers), host
    event = httpx.post(f"{api}call/recommend", json={"data": [learner, "en"]}).json()["event_id"]
    assert "event: complete" in httpx.get(f"{api}call/recommend/{event}", timeout=60).text  # its own name answers


def test_a_websocket_for_another_host_is_closed_before_it_is_accepted():
    """Gradio 6 serves no websocket (and uvicorn none without a websocket library), but the guard let any
    websocket through unchecked (it looked at HTTP only): a mounted app's would have been open to DNS rebinding."""
    import asyncio

    from speaksphere.app.guard import RequestGuard

    def handshake(host: str) -> tuple[list, list]:
        reached, sent = [], []

        async def inner(scope, receive, send):
            reached.append(scope["path"])
            await send({"type": "websocket.accept"})

        async def receive():
            return {"type": "websocket.connect"}

        async def send(message):
            sent.append(message)

        scope = {"type": "websocket", "path": "/gradio_api/queue/ws", "headers": [(b"host", host.encode())],
                 "query_string": b"", "scheme": "ws", "server": ("127.0.0.1", 7860), "client": ("127.0.0.1", 5000)}
        asyncio.run(RequestGuard(inner, hosts=frozenset({"localhost", "127.0.0.1"}))(scope, receive, send))
        return reached, sent

    reached, sent = handshake("evil.example:7860")
    assert reached == [] and sent[0]["type"] == "websocket.close" and sent[0]["code"] == 1008
    assert handshake("127.0.0.1:7860") == (["/gradio_api/queue/ws"], [{"type": "websocket.accept"}])


def test_only_an_app_on_loopback_checks_host_names(monkeypatch):
    from speaksphere.app.guard import allowed_hosts

    assert allowed_hosts("0.0.0.0") is None and allowed_hosts("speak.example") is None  # reachable directly
    assert allowed_hosts("127.0.0.1") == {"localhost", "127.0.0.1", "::1"}
    monkeypatch.setenv("SPACE_HOST", "someone-speaksphere.hf.space")
    assert "someone-speaksphere.hf.space" in allowed_hosts("localhost", ("proxy.example",))


def called(url: str, api_name: str, data: list) -> str:
    """The events of one "/call" of `api_name` with `data`, as text."""
    event = httpx.post(f"{url}gradio_api/call/{api_name}", json={"data": data}).json()["event_id"]
    return httpx.get(f"{url}gradio_api/call/{api_name}/{event}", timeout=60).text


@pytest.mark.parametrize("slot", ["learner-id-as-audio", "relative-path", "id-as-number"])
def test_gradios_input_errors_echo_nothing_and_log_no_traceback(served, learner, capfd, slot):
    """Low: a value gradio could not read for its component logged 19-36 lines of traceback, echoed a learner
    id sent in the wrong slot, and named the working folder ("Cannot move /.../x.wav")."""
    import os

    capfd.readouterr()
    data = {"learner-id-as-audio": ("analyze", [learner, ""]),
            "relative-path": ("analyze", [{"path": "x.wav", "meta": {"_type": "gradio.FileData"}}, ""]),
            "id-as-number": ("feedback", ["", learner, True])}[slot]
    events = called(served.local_url, *data)
    assert "event: error" in events and "inputs are not what this endpoint takes" in events
    assert learner not in events and os.getcwd() not in events and "x.wav" not in events
    logged = capfd.readouterr()
    assert "Traceback" not in logged.err + logged.out and learner not in logged.err + logged.out
