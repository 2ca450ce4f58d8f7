"""Flask extensions created once and bound in the application factory."""
from __future__ import annotations

from flask_smorest import Api

api = Api()
