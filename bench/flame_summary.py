"""Where a gunicorn worker's samples go under bench/engine.py (issue 23.1): a py-spy raw profile summed by area.

    py-spy record --format raw -r 200 -p <gunicorn worker> -d 60 -o worker.raw --nonblocking &
    python bench/engine.py --base-url http://127.0.0.1:8000 --token … --org C01T01 --instances 400
    python bench/flame_summary.py worker.raw

Each stack goes to the innermost frame that names an area (so a query inside the instance lock counts as the lock,
the flush inside a commit as the flush); the second column is the part of the area whose leaf frame is in psycopg
(sending a statement and waiting for PostgreSQL). py-spy without --idle counts a thread waiting on a socket as
busy, so this is where the worker's wall time goes while it serves requests, not CPU alone.
"""
from __future__ import annotations

import sys
from collections import Counter

# the innermost frame that matches a rule decides the area (the generic ones only when no specific rule matched)
RULES = [
    ("pool pre-ping (SELECT 1 per connection checkout)", ["do_ping", "_do_ping_w_event"]),
    ("ORM flush (unit of work)", ["Session.flush (", "Session._flush", "Session._autoflush"]),
    ("commit (COMMIT round trip)", ["Session.commit (", "SessionTransaction.commit"]),
    ("outbox / rq push", ["app/jobs/"]),
    ("audit (writes)", ["app/audit/services.py", "record (app/audit"]),
    ("projection (task rows)", ["_project (app/workflows/runner.py", "app/tasks/projection.py"]),
    ("history (_persist)", ["_persist (app/workflows/runner.py"]),
    ("engine load/deserialize", ["load_state (app/engine", "_Run.__init__ (app/engine", "_spec_objects"]),
    ("engine serialize", ["dump_state (app/engine", "_Run.snapshot (app/engine"]),
    ("engine step", ["app/engine/"]),
    ("instance lock (FOR UPDATE, lock_timeout)", ["_lock (app/workflows/runner.py"]),
    ("task lookup + receipt", ["task_to_complete (app/tasks", "receipt"]),
    ("inbox list query", ["list_tasks (app/tasks/queries.py"]),
    ("form validation", ["app/tasks/forms.py"]),
    ("start policy / version", ["app/processes/policy.py", "app/workflows/versions.py"]),
    ("response serialization (task items, instance detail)",
     ["items (app/tasks/queries.py", "app/processes/queries.py"]),
    ("marshmallow dump (response)", ["Schema.dump", "Schema._serialize", "Schema._invoke_dump"]),
    ("marshmallow/webargs load (request)", ["Schema.load", "Schema._do_load", "Parser.parse", "Parser._parse"]),
    ("auth (token → principal)", ["app/auth/"]),
    ("other app code", ["(app/"]),
    ("routing/werkzeug/flask", ["werkzeug/", "flask/"]),
    ("gunicorn (socket accept/read/close)", ["gunicorn/"]),
]
WAIT = ("Connection.wait (psycopg", "_execute_send", "_send_query", "wait_c", "PGconn", "do_ping")
GENERIC = {"other app code", "routing/werkzeug/flask", "gunicorn (socket accept/read/close)"}


def area(frames: list[str]) -> str:
    for f in reversed(frames):
        for name, keys in RULES:
            if name not in GENERIC and any(k in f for k in keys):
                return name
    s = ";".join(frames)
    for name, keys in RULES:
        if any(k in s for k in keys):
            return name
    return "other"


def library(leaf: str) -> str:
    for name, keys in (("psycopg (driver + waiting for PostgreSQL)", ("psycopg",)), ("sqlalchemy", ("sqlalchemy/",)),
                       ("SpiffWorkflow", ("SpiffWorkflow",)),
                       ("marshmallow/webargs/smorest", ("marshmallow", "webargs", "smorest")),
                       ("werkzeug/flask", ("werkzeug", "flask/")), ("redis/rq", ("redis/", "rq/")),
                       ("our code (app/)", ("(app/",)), ("gunicorn", ("gunicorn/",))):
        if any(k in leaf for k in keys):
            return name
    return "stdlib/other"


def main(path: str) -> None:
    tot, per, wait, lib = 0, Counter(), Counter(), Counter()
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    for line in lines:
        try:
            stack, count = line.rstrip().rsplit(" ", 1)
            n = int(count)
        except ValueError:          # a frame name with a line break in it
            continue
        tot += n
        frames = stack.split(";")
        name = area(frames)
        per[name] += n
        if any(w in frames[-1] for w in WAIT) or "psycopg" in frames[-1]:
            wait[name] += n
        lib[library(frames[-1])] += n
    print(f"samples {tot}")
    print("| area | share of samples | of which in psycopg (SQL round trips) |\n| --- | ---: | ---: |")
    for k, v in per.most_common():
        print(f"| {k} | {v / tot * 100:.1f} % | {wait[k] / tot * 100:.1f} % |")
    print("\n| leaf frame's library | share |\n| --- | ---: |")
    for k, v in lib.most_common():
        print(f"| {k} | {v / tot * 100:.1f} % |")


if __name__ == "__main__":
    main(sys.argv[1])
