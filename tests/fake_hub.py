"""A local stand-in for the Hugging Face Hub's HTTP API, for the publish tests.

It answers the endpoints ``huggingface_hub`` calls to create a repository, list its refs,
pre-upload and commit files (all as regular git blobs, inline in the commit) and tag a
commit, and it records every request — so the real client code runs up to the wire.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    body: bytes


@dataclass
class FakeHub:
    requests: list[Recorded] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    trickle: float = 0.0
    """Seconds between two bytes of each answer: a Hub slow but never silent."""

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                if hub.trickle:
                    self._trickle(status, body)
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _trickle(self, status: int, body: bytes) -> None:
                """The whole answer, status line and headers included, a byte at a time."""
                head = (
                    f"HTTP/1.0 {status} Slow\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                answer = head + (b"" if self.command == "HEAD" else body)
                try:
                    for i in range(len(answer)):
                        self.wfile.write(answer[i : i + 1])
                        self.wfile.flush()
                        time.sleep(hub.trickle)
                except OSError:  # the client gave up
                    pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                hub.requests.append(
                    Recorded(self.command, self.path, self.headers.get("Authorization"), body)
                )
                status, payload = hub.route(self.command, self.path.split("?")[0], body)
                self._reply(status, payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if path == "/api/repos/create":
            data = json.loads(body)
            return 200, {
                "url": f"{self.url}/datasets/{data.get('organization')}/{data['name']}",
                "name": data["name"],
            }
        if path == "/api/validate-yaml":
            return 200, {"errors": [], "warnings": []}
        if len(parts) >= 5 and parts[:2] == ["api", "datasets"]:
            action = parts[4]
            if action == "refs":
                return 200, {
                    "branches": [
                        {
                            "name": "main",
                            "ref": "refs/heads/main",
                            "targetCommit": self.commits[-1] if self.commits else "0" * 40,
                        }
                    ],
                    "converts": [],
                    "tags": [
                        {"name": t, "ref": f"refs/tags/{t}", "targetCommit": c}
                        for t, c in self.tags.items()
                    ],
                }
            if action == "preupload":
                files = json.loads(body)["files"]
                return 200, {
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                        for f in files
                    ]
                }
            if action == "commit":
                for line in body.decode().splitlines():
                    record = json.loads(line)
                    if record["key"] == "file":
                        value = record["value"]
                        self.files[value["path"]] = base64.b64decode(value["content"])
                oid = hashlib.sha1(body).hexdigest()
                self.commits.append(oid)
                return 200, {
                    "commitUrl": f"{self.url}/datasets/{parts[2]}/{parts[3]}/commit/{oid}",
                    "commitOid": oid,
                    "pullRequestUrl": None,
                }
            if action == "tag":
                data = json.loads(body)
                self.tags[data["tag"]] = parts[5] if len(parts) > 5 else "main"
                return 200, {}
        return 404, {"error": f"fake hub: no route for {method} {path}"}
