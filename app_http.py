"""HTTP guards in front of SpeakSphere's gradio app (an ASGI middleware; no speech here).

What gradio leaves open and a careful Space closes:
- Cross-site requests: a browser page on another origin may not POST to the app (upload, queue, API
  calls) nor read its answers. Gradio's own CORS grants any origin when the app is served on a public
  host, and any http://localhost:* page when served locally, with credentials; the guard, outermost,
  takes those grants back from any other site than the app's own and those the deployment allows.
  Clients that are not browsers send no Origin header and are not affected (gradio_client, curl).
- Oversized API calls: a JSON call body over `max_body_bytes`, or any text value in it over
  `max_text_chars`, is refused before gradio parses it (gradio's own input checks echo values back in
  their messages; SpeakSphere's longest input, a typed text, is 300 characters).
- Framing and sniffing: every response says who may frame the app (the Space's page on
  huggingface.co, the app itself) and that its content types are as declared.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import JSONResponse

__all__ = ["RequestGuard", "FRAME_ANCESTORS", "install_guard"]

FRAME_ANCESTORS = "'self' https://huggingface.co https://*.hf.space"  # a Space is shown framed on huggingface.co
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


_CORS_HEADERS = (b"access-control-allow-origin", b"access-control-allow-credentials")


def install_guard(app, allowed_origins: tuple[str, ...] = ()) -> None:
    """Put the RequestGuard outermost in a launched gradio app (a starlette app).

    Gradio adds its own CORS middleware outside any passed in `app_kwargs`, so the guard goes in after
    launch and the middleware stack is rebuilt (requests already running keep the old one). A Space's
    own address ($SPACE_HOST) joins `allowed_origins`."""
    origins = tuple(allowed_origins) + ((f"https://{os.environ['SPACE_HOST']}",) if os.environ.get("SPACE_HOST") else ())
    app.user_middleware.insert(0, Middleware(RequestGuard, allowed_origins=origins))
    app.middleware_stack = app.build_middleware_stack()


class RequestGuard:
    """ASGI middleware: same-origin browser writes, bounded JSON calls, security headers.

    `allowed_origins` are further origins ("https://example.org") allowed to call the app from a
    browser, beside the app's own address."""

    def __init__(self, app, max_body_bytes: int = 64 * 1024, max_text_chars: int = 1000,
                 allowed_origins: tuple[str, ...] = ()):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_text_chars = max_text_chars
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        trusted = origin is None or self._same_site(origin, headers)
        if not trusted and scope["method"] not in SAFE_METHODS:
            return await _refuse(scope, receive, send, 403, "Requests from another website are not accepted.")
        if scope["method"] == "POST" and "json" in headers.get("content-type", ""):
            body = await _read_body(receive, self.max_body_bytes)
            problem = _too_big(body, self.max_body_bytes, self.max_text_chars)
            if problem:
                return await _refuse(scope, _replay(b""), send, 413, problem)
            receive = _replay(body)
        return await self.app(scope, receive, _with_headers(send, strip_cors=not trusted))

    def _same_site(self, origin: str, headers: Headers) -> bool:
        """The page calling us comes from this app's own address (or one the deployment allows)."""
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        host = (headers.get("x-forwarded-host") or headers.get("host") or "").lower()
        return bool(host) and urlsplit(origin).netloc == host


async def _read_body(receive, limit: int) -> bytes:
    """The request body, at most limit + 1 bytes of it (enough to know it is too big)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if size <= limit:
            chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)[: limit + 1]


def _too_big(body: bytes, max_bytes: int, max_chars: int) -> str | None:
    """Why this JSON call is refused, or None. Never quotes the values themselves."""
    if len(body) > max_bytes:
        return f"This request is larger than {max_bytes // 1024} KB; SpeakSphere's inputs are short."
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        return None  # not JSON after all: gradio answers it
    if _longest_text(payload) > max_chars:
        return (f"A value in this request is longer than {max_chars} characters; SpeakSphere's longest input, a "
                "typed text, is 300 characters.")
    return None


def _longest_text(value) -> int:
    """The length of the longest string anywhere in a parsed JSON value (keys included)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((max(len(k), _longest_text(v)) for k, v in value.items()), default=0)
    if isinstance(value, list):
        return max((_longest_text(v) for v in value), default=0)
    return 0


def _replay(body: bytes):
    """A `receive` that hands the already-read body to the app."""
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _with_headers(send, strip_cors: bool):
    """`send` with security headers added to the response, and CORS grants to other sites taken back."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if not (strip_cors and k.lower() in _CORS_HEADERS)]
            headers += [(b"content-security-policy", f"frame-ancestors {FRAME_ANCESTORS}".encode()),
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"same-origin")]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _refuse(scope, receive, send, status: int, message: str):
    response = JSONResponse({"error": message, "detail": message}, status_code=status)
    await response(scope, receive, _with_headers(send, strip_cors=True))
