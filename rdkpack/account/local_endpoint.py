"""moto's in-process backends served over HTTP on 127.0.0.1, so a script in another process (an automation step
on Python 3.11) reaches the same embedded account. Routes moto lacks are answered in front of it, on the wire,
as the service would answer them.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class QuietHandler(MotoRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # the demo's console is for its report, not an access log
        pass


@dataclass(frozen=True)
class Route:
    """A request moto does not answer: method, a pattern over the path, and the JSON answer for (match, body)."""

    method: str
    path: re.Pattern
    answer: Callable[[re.Match, dict], dict]


def front(app, routes: tuple[Route, ...]):
    def serve(environ, start_response):
        for route in routes:
            match = route.path.fullmatch(environ.get("PATH_INFO", ""))
            if match and environ["REQUEST_METHOD"] == route.method:
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                data = json.dumps(route.answer(match, body)).encode()
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
                return [data]
        return app(environ, start_response)

    return serve


@contextlib.contextmanager
def serve(routes: tuple[Route, ...] = ()) -> Iterator[str]:
    """The URL of a server on 127.0.0.1 over moto's backends (state shared with the in-process mock)."""
    server = make_server(
        "127.0.0.1",
        0,
        front(DomainDispatcherApplication(create_backend_app), routes),
        threaded=True,
        request_handler=QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
