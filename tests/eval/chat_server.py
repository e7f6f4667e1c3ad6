"""A real chat-completions server on 127.0.0.1 for the judge tests (stdlib http.server in
a thread): it answers every POST /v1/chat/completions with a scripted action chosen by a
marker in the user message, and records each request (body and headers)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_REPLY = "9 7\nAssistant 2 is right but terse."


class ChatServer:
    """`script` maps a marker (a substring of the user message) to the actions of its
    successive requests: "429", "500", "404", "sleep" (longer than the client's timeout), "bad
    json", or a reply text; the last action repeats. Other prompts get `DEFAULT_REPLY`."""

    def __init__(self, script: dict[str, list[str]], sleep_s: float = 1.0) -> None:
        self.script = script
        self.sleep_s = sleep_s
        self.requests: list[dict] = []
        self.seen: dict[str, int] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                action = server.action(self.path, body, dict(self.headers))
                if action == "sleep":
                    time.sleep(server.sleep_s)
                    action = DEFAULT_REPLY
                if action in ("429", "500", "404"):
                    self.send_response(int(action))
                    if action == "429":
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(b"model not found" if action == "404" else b"busy")
                    return
                payload = (
                    b"not json"
                    if action == "bad json"
                    else json.dumps(
                        {"choices": [{"index": 0, "message": {"role": "assistant", "content": action}}]}
                    ).encode()
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except BrokenPipeError:  # the client timed out and left
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def action(self, path: str, body: dict, headers: dict) -> str:
        """The scripted action for this request (and its record)."""
        user = body["messages"][-1]["content"]
        with self.lock:
            self.requests.append({"path": path, "body": body, "headers": headers})
            for marker, actions in self.script.items():
                if marker in user:
                    count = self.seen.get(marker, 0)
                    self.seen[marker] = count + 1
                    return actions[min(count, len(actions) - 1)]
        return DEFAULT_REPLY

    def requests_for(self, marker: str) -> int:
        """How many requests carried `marker`."""
        return sum(marker in r["body"]["messages"][-1]["content"] for r in self.requests)

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
