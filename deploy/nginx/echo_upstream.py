"""Stand-in upstreams for scripts/validate-deploy.sh: one HTTP server per NAME=PORT.

Each answers any request with JSON naming itself, the path it received and the
headers the gateway forwarded, so the check can see routing without path rewriting.
A path containing `/big` answers a 4 KiB body (to see gzip). Standard library only.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handler_for(name: str) -> type[BaseHTTPRequestHandler]:
    """A request handler class that reports `name` as the service."""

    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            body = {
                "service": name,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
            if "/big" in self.path:
                body["padding"] = "x" * 4096
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Echo


def main(pairs: list[str]) -> None:
    """Serve every NAME=PORT on 127.0.0.1 until killed."""
    servers = []
    for pair in pairs:
        name, port = pair.split("=", 1)
        server = ThreadingHTTPServer(("127.0.0.1", int(port)), handler_for(name))
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
