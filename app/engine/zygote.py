"""Entry point of the script zygote process (see `isolation`): `python -m app.engine.zygote FD LIFELINE [MODULE…]`."""
from __future__ import annotations

import sys

from .isolation import serve_zygote

if __name__ == "__main__":
    serve_zygote(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
