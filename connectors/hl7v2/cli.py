"""`ygt mllp` — the HL7 v2 MLLP listener."""
from __future__ import annotations

import time
from collections.abc import Callable

import click
from flask import Flask


def register(main: click.Group, make_app: Callable[[], Flask]) -> None:
    """Add `ygt mllp` to `main`; `make_app` builds the app the listener runs in (app/cli.py passes its own)."""
    @main.command("mllp")
    @click.option("--host", default="127.0.0.1", show_default=True, help="interface to listen on")
    @click.option("--port", default=2575, show_default=True, type=int)
    @click.option("--allow", multiple=True, help="sender network allowed (CIDR; repeatable; default: any)")
    def mllp(host: str, port: int, allow: tuple[str, ...]) -> None:
        """Listen for HL7 v2 messages over MLLP and answer each with its ACK."""
        from .mllp import serve  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
        app = make_app()
        server = serve(app, host, port, allow=list(allow))
        click.echo(f"MLLP listening on {server.server_address[0]}:{server.server_address[1]}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.shutdown()
