"""gunicorn settings for production: `gunicorn -c python:app.gunicorn_conf 'app:create_app()'`.

`GUNICORN_BIND` (default 0.0.0.0:8000) and `WEB_CONCURRENCY` (default 4) choose the address and worker count;
the limits are the ones `ygt serve` uses (see app/serving.py).
"""
import os

from app.serving import gunicorn_options

globals().update(gunicorn_options(os.environ.get("GUNICORN_BIND", "0.0.0.0:8000"),
                                  int(os.environ.get("WEB_CONCURRENCY", "4"))))
