"""MLLP: HL7 v2 over TCP, each message framed as 0x0B <message> 0x1C 0x0D; the ACK comes back framed the same way.

`serve(app, host, port)` runs a threaded listener (`ygt mllp`); `send(host, port, message)` is the client side
(tests, and a smoke check from the command line). MLLP has no authentication: deliveries are stored under the
client id `mllp:<MSH-3 sending application>`; bind to a private interface and restrict senders (`--allow`).
"""
from __future__ import annotations

import ipaddress
import socket
import socketserver
import threading

from app.core import db, logs

from . import inbound

START, END = b"\x0b", b"\x1c\x0d"
MAX_MESSAGE = 10 * 1024 * 1024
log = logs.get("mllp")


def frame(message: str | bytes) -> bytes:
    data = message.encode("utf-8") if isinstance(message, str) else message
    return START + data + END


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: MllpServer = self.server        # type: ignore[assignment]
        if not server.allowed(self.client_address[0]):
            log.warning("mllp sender refused", extra={"peer": self.client_address[0]})
            return
        buffer = b""
        self.request.settimeout(server.idle_timeout)
        while True:
            try:
                chunk = self.request.recv(65536)
            except (TimeoutError, OSError):
                return
            if not chunk:
                return
            buffer += chunk
            if len(buffer) > MAX_MESSAGE:
                return
            while END in buffer:
                raw, buffer = buffer.split(END, 1)
                start = raw.find(START)
                if start < 0:
                    continue                      # noise between frames
                self.request.sendall(frame(server.process(raw[start + 1:])))


class MllpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, host: str, port: int, *, allow: list[str] | None = None, idle_timeout: float = 300):
        self.app = app
        self.networks = [ipaddress.ip_network(a, strict=False) for a in (allow or [])]
        self.idle_timeout = idle_timeout
        super().__init__((host, port), _Handler)

    def allowed(self, peer: str) -> bool:
        return not self.networks or any(ipaddress.ip_address(peer) in n for n in self.networks)

    def process(self, raw: bytes) -> str:
        with self.app.app_context():
            try:
                outcome = inbound.receive(raw, client_id=_client_id(raw))
                return outcome.body if isinstance(outcome.body, str) else str(outcome.body)
            finally:
                db.remove_session()


def _client_id(raw: bytes) -> str:
    head = raw.replace(b"\n", b"\r").lstrip(b"\r").split(b"\r", 1)[0].split(b"|")
    app_name = head[2].split(b"^")[0].decode("utf-8", errors="replace").strip() if len(head) > 2 else ""
    return f"mllp:{app_name or 'unknown'}"[:80]


def serve(app, host: str = "127.0.0.1", port: int = 2575, *, allow: list[str] | None = None) -> MllpServer:
    """Start a listener in a background thread and return it (`.shutdown()` to stop; `.server_address`)."""
    server = MllpServer(app, host, port, allow=allow)
    threading.Thread(target=server.serve_forever, name="mllp", daemon=True).start()
    return server


def send(host: str, port: int, message: str | bytes, *, timeout: float = 30) -> str:
    """Send one framed message and return the ACK text."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(frame(message))
        buffer = b""
        while END not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
    return buffer.split(END, 1)[0].lstrip(START).decode("utf-8")
