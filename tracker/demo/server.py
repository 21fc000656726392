"""A local HTTP site on 127.0.0.1 whose pages can be changed while it runs.

Used by `regwatch demo`, the tests and the benchmarks: it answers conditional GETs with 304
(ETag from the body's hash, Last-Modified from when the body was set), and can be told to
answer a path with any status, headers, delay or redirect.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """How the site answers one path."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (for timeouts)
    redirect: str | None = None  # answer 301 to this location
    validators: bool = True  # send ETag / Last-Modified and honour conditional requests
    modified: float = field(default_factory=time.time)


@dataclass
class Hit:
    """One request the site received."""

    path: str
    status: int
    headers: dict[str, str]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up (timeout tests) is not an error of the site


class LocalSite:
    """A threaded HTTP server on a free loopback port; use as a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                site._answer(self)

            def do_HEAD(self) -> None:  # noqa: N802
                site._answer(self, head=True)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # quiet: tests and the demo read `hits` instead

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """The site's base URL, e.g. http://127.0.0.1:41234."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """Absolute URL of `path` on this site."""
        return self.base + path

    def set(self, path: str, body: bytes | str = b"", **kwargs) -> Route:
        """Serve `body` at `path` (with Route options); returns the route."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        route = Route(body=body, **kwargs)
        with self._lock:
            self.routes[path] = route
        return route

    def remove(self, path: str) -> None:
        """Stop serving `path` (it answers 404 from now on)."""
        with self._lock:
            self.routes.pop(path, None)

    def hits_for(self, path: str) -> list[Hit]:
        """Requests received for `path`, in order."""
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def start(self) -> LocalSite:
        """Start serving in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, handler: BaseHTTPRequestHandler, head: bool = False) -> None:
        path = handler.path.split("#")[0]
        with self._lock:
            route = self.routes.get(path) or self.routes.get(path.split("?")[0])
        if route is None:
            route = Route(body=b"<html><body><h1>Not Found</h1></body></html>", status=404, validators=False)
        if route.delay:
            time.sleep(route.delay)
        status, headers, body = route.status, dict(route.headers), route.body
        if route.redirect:
            status, body = 301, b""
            headers["Location"] = route.redirect
        elif route.validators and status == 200:
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            last_modified = formatdate(route.modified, usegmt=True)
            headers.setdefault("ETag", etag)
            headers.setdefault("Last-Modified", last_modified)
            if _not_modified(handler.headers, etag, route.modified):
                status, body = 304, b""
        with self._lock:
            self.hits.append(Hit(path, status, dict(handler.headers.items())))
        try:
            handler.send_response(status)
            if status != 304 and not route.redirect:
                handler.send_header("Content-Type", route.content_type)
            for k, v in headers.items():
                handler.send_header(k, v)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if not head and body:
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


def _not_modified(request_headers, etag: str, modified: float) -> bool:
    inm = request_headers.get("If-None-Match")
    if inm is not None:
        return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
    ims = request_headers.get("If-Modified-Since")
    if ims:
        try:
            return int(modified) <= parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
    return False
