"""HTTP guards in front of SpeakSphere's gradio app (an ASGI middleware; no speech here).

What gradio leaves open and a careful Space closes:
- Cross-site requests: a browser page on another origin may not POST to the app (upload, queue, API
  calls) nor read its answers. Gradio's own CORS grants any origin when the app is served on a public
  host, and any http://localhost:* page when served locally, with credentials; the guard, outermost,
  takes those grants back from any other site than the app's own and those the deployment allows.
  Clients that are not browsers send no Origin header and are not affected (gradio_client, curl).
- Oversized uploads: an upload request larger than one recording (`max_upload_bytes` and the form's
  framing), or of unstated length, is refused before anything is stored; so is one over its client's
  budget or the upload folder's cap (uploads.UploadBudget).
- Oversized API calls: a JSON call body over `max_body_bytes`, or any text value in it over
  `max_text_chars`, is refused before gradio parses it (gradio's own input checks echo values back in
  their messages; SpeakSphere's longest input, a typed text, is 300 characters).
- Other host names: an app on loopback answers only requests for its own names (DNS rebinding), on every
  route: gradio's queue (/gradio_api/queue/join, its server-sent events at /gradio_api/queue/data, the
  /call and /stream routes, heartbeats) is plain HTTP and refused with 421 like the rest, and a websocket
  handshake (gradio 6 serves none; a mounted app might) is closed before it is accepted. Gradio's
  /monitoring pages (queue statistics, public) are not served.
- Framing and sniffing: every response says who may frame the app (the app itself, huggingface.co's
  page of the Space and the Space's own host from $SPACE_HOST; once any *.hf.space, so any Space could
  frame it over "Delete my data"), with X-Frame-Options SAMEORIGIN for browsers that predate
  frame-ancestors (newer ones obey frame-ancestors instead), and that its content types are as declared.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from .api import _client
from .uploads import UploadBudget

__all__ = ["RequestGuard", "allowed_hosts", "frame_ancestors", "install_guard"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOO_LARGE = "This request is larger than {} KB; SpeakSphere's inputs are short."
_TOO_LARGE_UPLOAD = "Please upload one recording of at most {} MB at a time (and say how large it is)."
_OTHER_HOST = "This SpeakSphere answers only at its own address."
_MULTIPART_OVERHEAD = 64 * 1024  # bytes: the form's boundaries and part headers around one file
log = logging.getLogger("speaksphere.app")


_CORS_HEADERS = (b"access-control-allow-origin", b"access-control-allow-credentials")


def frame_ancestors(space_host: str | None = None) -> str:
    """Who may frame the app: itself, huggingface.co (a Space is shown framed on its page there) and the
    Space's own host (`space_host`, $SPACE_HOST when None), if any."""
    space_host = os.environ.get("SPACE_HOST") if space_host is None else space_host
    return "'self' https://huggingface.co" + (f" https://{space_host}" if space_host else "")


def allowed_hosts(server_name: str, hosts: tuple[str, ...] = ()) -> frozenset[str] | None:
    """The Host names a request may name, or None (any) when the app listens beyond this computer. An app on
    loopback answers only its own names (localhost, 127.0.0.1, ::1, `server_name`, $SPACE_HOST and `hosts`,
    those a reverse proxy in front of it passes on): a web page whose own name an attacker re-points at
    127.0.0.1 (DNS rebinding) reaches the local app under that name, and is refused. An app reachable from
    the network gains nothing from the check (any page could call it directly)."""
    name = server_name.strip("[]").lower()
    try:
        loopback = name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return None
    space = (os.environ.get("SPACE_HOST", "").lower(),) if os.environ.get("SPACE_HOST") else ()
    return frozenset({"localhost", "127.0.0.1", "::1", name, *space, *(h.lower() for h in hosts)})


def install_guard(app, allowed_origins: tuple[str, ...] = (), max_upload_bytes: int = 64 << 20,
                  uploads: UploadBudget | None = None, proxies: tuple = (),
                  hosts: frozenset[str] | None = None) -> None:
    """Put the RequestGuard outermost in a launched gradio app (a starlette app).

    Gradio adds its own CORS middleware outside any passed in `app_kwargs`, so the guard goes in after
    launch and the middleware stack is rebuilt (requests already running keep the old one). A Space's
    own address ($SPACE_HOST) joins `allowed_origins`. `uploads` budgets each client's uploads (keyed as
    api._client keys them, behind `proxies`); `hosts` (allowed_hosts) are the Host names answered."""
    space = (f"https://{os.environ['SPACE_HOST']}",) if os.environ.get("SPACE_HOST") else ()
    origins = tuple(allowed_origins) + space
    app.user_middleware.insert(0, Middleware(RequestGuard, allowed_origins=origins, max_upload_bytes=max_upload_bytes,
                                             uploads=uploads, proxies=proxies, hosts=hosts))
    app.middleware_stack = app.build_middleware_stack()


class RequestGuard:
    """ASGI middleware: same-origin browser writes, bounded JSON calls, security headers.

    `allowed_origins` are further origins ("https://example.org") allowed to call the app from a
    browser, beside the app's own address."""

    def __init__(self, app, max_body_bytes: int = 64 * 1024, max_text_chars: int = 1000,
                 allowed_origins: tuple[str, ...] = (), max_upload_bytes: int = 64 << 20,
                 uploads: UploadBudget | None = None, proxies: tuple = (), hosts: frozenset[str] | None = None):
        self.app = app
        self.hosts = hosts
        self.uploads, self.proxies = uploads, proxies
        # one recording per upload request: its bytes and the multipart framing (gradio alone let 1,000
        # files of 64 MB through in one request: 16 parts of 60 MiB were stored in 13 s)
        self.max_upload_request_bytes = max_upload_bytes + _MULTIPART_OVERHEAD
        self.frame_ancestors = frame_ancestors()
        self.max_body_bytes = max_body_bytes
        self.max_text_chars = max_text_chars
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):  # lifespan
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if self.hosts is not None and _host_name(headers.get("host")) not in self.hosts:
            log.warning("refused a request for another host name (%s)", scope["type"])
            if scope["type"] == "websocket":  # closed before it is accepted: the server answers the handshake 403
                return await send({"type": "websocket.close", "code": 1008, "reason": _OTHER_HOST})
            return await _refuse(scope, send, 421, _OTHER_HOST, self.frame_ancestors)
        if scope["type"] == "websocket":  # gradio 6 has none (its queue streams over HTTP: SSE), a mounted app might
            return await self.app(scope, receive, send)
        if scope["path"] == "/monitoring" or scope["path"].startswith("/monitoring/"):
            # gradio's queue statistics, public by default, and its login page logged the key to them
            return await _refuse(scope, send, 404, "Not Found", self.frame_ancestors)
        origin = headers.get("origin")
        trusted = origin is None or self._same_site(origin, headers)
        if not trusted and scope["method"] not in SAFE_METHODS:
            log.warning("refused a %s from origin %.80s (host %.80s)", scope["method"], origin, headers.get("host"))
            return await _refuse(scope, send, 403, "Requests from another website are not accepted.",
                                 self.frame_ancestors)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        upload = media_type == "multipart/form-data" and scope["path"].rstrip("/").endswith("/upload")
        if upload:
            length = headers.get("content-length") or ""
            if not length.isdigit() or int(length) > self.max_upload_request_bytes:  # refused before a byte is stored
                return await _refuse(scope, send, 413, _TOO_LARGE_UPLOAD.format(self.max_upload_request_bytes >> 20),
                                     self.frame_ancestors)
            refused = self.uploads and self.uploads.refusal(_client(Request(scope), self.proxies), int(length))
            if refused:
                log.info("refused an upload: %s", refused[1])
                return await _refuse(scope, send, *refused, self.frame_ancestors)
        if scope["method"] not in SAFE_METHODS and not upload:
            # JSON calls, and anything FastAPI might parse as JSON (no content type, odd casing); files go
            # to the upload route only, which gradio bounds with max_file_size
            length = headers.get("content-length") or "0"
            if not length.isdigit() or int(length) > self.max_body_bytes:
                return await _refuse(scope, send, 413, _TOO_LARGE.format(self.max_body_bytes // 1024),
                                     self.frame_ancestors)
            body = await _read_body(receive, self.max_body_bytes)
            if body is None:  # the client went away: nothing to answer
                return None
            problem = _too_big(body, self.max_body_bytes, self.max_text_chars)
            if problem:
                log.info("refused a call: %s", problem)
                return await _refuse(scope, send, 413, problem, self.frame_ancestors)
            receive = _replay(body, receive)
        return await self.app(scope, receive, _with_headers(send, not trusted, self.frame_ancestors))

    def _same_site(self, origin: str, headers: Headers) -> bool:
        """The page calling us comes from this app's own address (or one the deployment allows). Browsers
        say so themselves in Sec-Fetch-Site, which no page can forge; else the Origin must name this host."""
        if headers.get("sec-fetch-site") in ("same-origin", "none"):
            return True
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        forwarded = (headers.get("x-forwarded-host") or "").split(",")[0].strip()
        host = _without_default_port((forwarded or headers.get("host") or "").lower())
        parts = urlsplit(origin)
        return bool(host) and _without_default_port(parts.netloc, parts.scheme) == host


def _host_name(host: str | None) -> str:
    """'Example.org:7860' -> 'example.org', '[::1]:7860' -> '::1'; '' -> '' (no Host: HTTP/1.0)."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        return host[1:].split("]")[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _without_default_port(netloc: str, scheme: str = "") -> str:
    """'example.org:443' -> 'example.org' (and :80); other ports stay."""
    for port in (":443", ":80"):
        if netloc.endswith(port) and (not scheme or scheme == {":443": "https", ":80": "http"}[port]):
            return netloc[: -len(port)]
    return netloc


async def _read_body(receive, limit: int) -> bytes | None:
    """The request body, or its first limit + 1 bytes once it is known to be too big (the rest is not
    read); None when the client disconnected before sending it all."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or not message.get("more_body"):
            return b"".join(chunks)[: limit + 1]


def _too_big(body: bytes, max_bytes: int, max_chars: int) -> str | None:
    """Why this call is refused, or None. Never quotes the values themselves."""
    if len(body) > max_bytes:
        return _TOO_LARGE.format(max_bytes // 1024)
    try:
        payload = json.loads(body or b"null")
    except RecursionError:
        return "This request is nested too deeply to be a SpeakSphere call."
    except ValueError:
        return None  # not JSON after all: gradio answers it
    longest = _longest_text(payload)
    if longest is None:
        return "This request is nested too deeply to be a SpeakSphere call."
    if longest > max_chars:
        return (f"A value in this request is longer than {max_chars} characters; SpeakSphere's longest input, a "
                "typed text, is 300 characters.")
    return None


def _longest_text(value, max_depth: int = 32) -> int | None:
    """The length of the longest string anywhere in a parsed JSON value (keys included); None when it
    nests deeper than max_depth (walked without recursion)."""
    longest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return None
        if isinstance(item, str):
            longest = max(longest, len(item))
        elif isinstance(item, dict):
            longest = max([longest] + [len(k) for k in item])
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return longest


def _replay(body: bytes, receive):
    """A `receive` that hands the already-read body to the app, then the client's own messages
    (a disconnect, when it comes)."""
    sent = False

    async def replayed():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _with_headers(send, strip_cors: bool, ancestors: str):
    """`send` with security headers added to the response (framing by `ancestors` only), and CORS grants
    to other sites taken back."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if not (strip_cors and k.lower() in _CORS_HEADERS)]
            headers += [(b"content-security-policy", f"frame-ancestors {ancestors}".encode()),
                        (b"x-frame-options", b"SAMEORIGIN"),  # browsers without frame-ancestors
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"same-origin")]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _refuse(scope, send, status: int, message: str, ancestors: str):
    response = JSONResponse({"error": message, "detail": message}, status_code=status)
    await response(scope, _replay(b"", _never), _with_headers(send, True, ancestors))


async def _never():
    return {"type": "http.disconnect"}
