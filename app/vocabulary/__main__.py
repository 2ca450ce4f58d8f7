"""`python -m app.vocabulary` prints the catalogue (what GET /api/v1/vocabulary answers; the UI tests' snapshot)."""
import json

from . import catalog

print(json.dumps(catalog(), ensure_ascii=False, indent=1))
