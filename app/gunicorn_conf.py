"""gunicorn settings for production: `gunicorn -c python:app.gunicorn_conf 'app:create_app()'`.

`GUNICORN_BIND` (default 0.0.0.0:8000), `WEB_CONCURRENCY` (default 4) and `WEB_THREADS` (default 4) choose the
address, the worker processes and the threads of each; the limits, the worker class and the web processes'
statement timeout (`WEB_STATEMENT_TIMEOUT_S`) are the ones `ygt serve` uses (see app/serving.py).
"""
import os

from app.serving import WEB_THREADS, gunicorn_options, web_process_environment

web_process_environment()
globals().update(gunicorn_options(os.environ.get("GUNICORN_BIND", "0.0.0.0:8000"),
                                  int(os.environ.get("WEB_CONCURRENCY", "4")), WEB_THREADS))
