"""The script worker pool: OS-enforced limits, helpers and the platform clock in the worker, concurrency, forks."""
from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest

from app.core import clock
from app.engine import isolation
from app.engine.sandbox import SandboxError
from app.workflows import bindings

PRELOAD = ("app.workflows.bindings",)


@pytest.fixture(scope="module")
def pool():
    return isolation.pool(preload=PRELOAD)


def test_a_script_runs_with_the_helpers_and_the_callers_platform_clock(pool):
    clock.advance(timedelta(days=90))
    try:
        names = pool.run("exec", "seen = today()\nlater = add_days(seen, 1)", {"x": 1},
                         helpers=bindings.SCRIPT_HELPERS, timeout_s=5,
                         setup=(bindings.sync_clock, (bindings.clock_state(),)))
    finally:
        clock.reset()
    assert names["x"] == 1
    assert names["seen"] == clock.date_of(clock.now() + timedelta(days=90)).isoformat()


def test_two_threads_run_scripts_at_the_same_time(pool):
    results, errors = {}, []

    def work(n):
        try:
            results[n] = pool.run("exec", "y = x * 2", {"x": n}, helpers={}, timeout_s=5)["y"]
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == {n: n * 2 for n in range(6)}


def test_a_killed_worker_is_replaced(pool):
    pool.run("eval", "1", {}, helpers={}, timeout_s=5)
    for worker in list(pool._idle):
        os.kill(worker.pid, signal.SIGKILL)
    assert pool.run("eval", "x + 1", {"x": 41}, helpers={}, timeout_s=5) == 42


def test_data_that_cannot_travel_is_a_script_error_not_a_crash(pool):
    with pytest.raises(SandboxError) as err:
        pool.run("eval", "1", {"lock": threading.Lock()}, helpers={}, timeout_s=5)
    assert err.value.code == "script_error"
    assert pool.run("eval", "2", {}, helpers={}, timeout_s=5) == 2


def test_a_forked_process_gets_its_own_workers_from_the_same_zygote(pool):
    pool.run("eval", "1", {}, helpers={}, timeout_s=5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what an rq job process does
        try:
            value = isolation.pool(preload=PRELOAD).run("eval", "x * 3", {"x": 5}, helpers={}, timeout_s=5)
            os.write(write, str(value).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"15"
    assert pool.run("eval", "x * 4", {"x": 5}, helpers={}, timeout_s=5) == 20   # the parent's still work


def test_a_forked_process_reuses_the_zygote_instead_of_starting_its_own(pool):
    """An rq job process is forked from the worker that started the zygote: it is not the zygote's parent, so
    `Popen.poll` cannot wait for it (ECHILD, which the library reads as "exited") and every job started a zygote of
    its own — a fresh interpreter importing the sandbox and the bindings, ≈ 0.7 s of CPU per job."""
    pool.run("eval", "1", {}, helpers={}, timeout_s=5)
    zygote = isolation._zygote_ref
    assert zygote is not None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            value = isolation.pool(preload=PRELOAD).run("eval", "x * 3", {"x": 5}, helpers={}, timeout_s=5)
            now = isolation._zygote_ref
            os.write(write, f"{value} {now.process.pid if now is not None else 0}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 64).decode() == f"15 {zygote.process.pid}"
    assert isolation._zygote_ref is zygote


def test_a_forked_process_sees_whether_the_shared_zygote_lives():
    zygote = isolation._Zygote(())
    read, write = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            before = zygote.alive()
            os.read(go_r, 1)            # the parent killed it (not reaped: a zombie)
            os.write(write, f"{int(before)} {int(zygote.alive())}".encode())
        finally:
            os._exit(0)
    os.close(write)
    assert zygote.alive()
    time.sleep(0.2)
    os.kill(zygote.process.pid, signal.SIGKILL)
    for _ in range(500):
        with open(f"/proc/{zygote.process.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    os.write(go_w, b"1")
    os.waitpid(pid, 0)
    assert os.read(read, 64).decode() == "1 0"
    assert not zygote.alive()
    zygote.close()


# one C call that never ends (`max` compares a million references to one list, each comparison walking its million
# items): nothing the in-worker timeout can stop it at, so only the OS-side kill does, on a fast host and a slow one
# alike. A loop of squarings was stopped between two of them by the in-worker timeout on a slow host (each `*` is a
# guarded call), which kept the worker and sent the batch's rest in the same request (CI, 2026-12-06).
LONG_C_CALL = "a = [0] * 10**6\nb = [a] * 10**6\nx = max(b)"
MEMORY_BOMB = "rows = [[0] * 10**6 for i in range(200)]"


def test_many_scripts_go_in_one_request_and_each_fails_alone(pool, monkeypatch):
    """A batch start's scripts (`run_many`): one request for the lot; a script error, a timeout and a memory bomb
    each fail their own item with their own reason, and the items after them still run (on a fresh worker)."""
    sent = []
    real_send = isolation._send
    monkeypatch.setattr(isolation, "_send", lambda worker, request: (sent.append(request[0]), real_send(worker,
                                                                                                        request)))
    ok = ("exec", "y = x * 2", {"x": 1}, {}, 5.0, None)
    requests = [ok, ("exec", "y = x.nope", {"x": 2}, {}, 5.0, None), {**dict(enumerate(ok)), 2: {"x": 3}},
                ("exec", LONG_C_CALL, {}, {}, 1.0, None), ("exec", "y = x * 2", {"x": 5}, {}, 5.0, None),
                ("exec", MEMORY_BOMB, {}, {}, 10.0, None), ("exec", "y = x * 2", {"x": 7}, {}, 5.0, None)]
    requests[2] = tuple(requests[2].values())
    results = pool.run_many(requests)
    assert [r["y"] if isinstance(r, dict) else r.code for r in results] == [
        2, "script_error", 6, "script_timeout", 10, "script_memory", 14]
    assert results[1].reason and "nope" in results[1].reason
    assert sent == [isolation.MANY] * 3       # the batch, then the rest after the timeout, then after the memory kill
    assert pool.run("eval", "x + 1", {"x": 41}, helpers={}, timeout_s=5) == 42     # the pool keeps serving


def test_many_scripts_with_data_that_cannot_travel_fail_only_that_item(pool):
    results = pool.run_many([("exec", "y = 1", {"lock": threading.Lock()}, {}, 5.0, None),
                             ("exec", "y = 2", {}, {}, 5.0, None)])
    assert isinstance(results[0], SandboxError) and results[0].code == "script_error"
    assert results[1]["y"] == 2


def test_a_batch_start_asks_the_pool_once_per_round_and_matches_single_starts(monkeypatch):
    """`runtime.start_many`: the scripts of N starts before their first wait go to the pool in one request per
    script on the way (not one per instance), and every snapshot is what `runtime.start` gives singly; a start whose
    script fails is an incident of that instance only."""
    from app.engine import runtime, specs
    from tests.bpmn_builder import chain, definitions, process, script, user
    xml = definitions(process("two_scripts", chain(script("prepare", "y = x * 2"),
                                                   script("check", "z = 10 // (y - 6)"), user("visit"))))
    draft = specs.parse_bundle({"bpmn/two_scripts.bpmn": xml}).processes[0]
    ctx = runtime.Context(spec_json=draft.spec_json, spec_key=f"two_scripts:{draft.content_hash}",
                          isolation=runtime.Isolation(mode="process"))
    p = isolation.pool()
    asked = {"many": 0, "one": 0}
    real_many, real_run = p.run_many, p.run
    monkeypatch.setattr(p, "run_many", lambda requests: (asked.__setitem__("many", asked["many"] + 1),
                                                         real_many(requests))[1])
    monkeypatch.setattr(p, "run", lambda *a, **k: (asked.__setitem__("one", asked["one"] + 1), real_run(*a, **k))[1])
    datas = [{"x": n} for n in range(1, 7)]                  # x = 3: 10 // 0 in `check`
    many = runtime.start_many(ctx, datas)
    assert asked == {"many": 2, "one": 0}                    # two scripts before the wait: two rounds, six starts
    singles = [runtime.start(ctx, d) for d in datas]
    assert asked["one"] == 12
    for got, single in zip(many, singles):
        assert not isinstance(got, Exception)
        assert (got.status, [t.element_id for t in got.human_tasks], got.error and got.error.code,
                got.error and got.error.element_id) == \
               (single.status, [t.element_id for t in single.human_tasks], single.error and single.error.code,
                single.error and single.error.element_id)
        assert [e["type"] for e in got.events] == [e["type"] for e in single.events]
    assert [s.status for s in many] == ["waiting", "waiting", "error", "waiting", "waiting", "waiting"]
    assert many[2].error.element_id == "check"


def _shape(snap):
    """A snapshot's state without what differs between any two runs (task ids, timestamps): per task its element,
    state and data, in tree order; plus the projections."""
    state = snap.state
    order, tasks = [], state["tasks"]

    def walk(guid):
        t = tasks[guid]
        order.append((t["task_spec"], t["state"], t["data"], t.get("internal_data")))
        for child in t["children"]:
            walk(child)
    walk(state["root"])
    return (order, snap.status, [(t.element_id, t.data, t.instructions) for t in snap.human_tasks],
            [(e["type"], e.get("element_id"), e.get("data")) for e in snap.events], snap.diagram,
            sorted((k, tasks[v]["task_spec"] if k == "last_task" and v else v) for k, v in state.items()
                   if k not in ("tasks", "root", "subprocesses") and not isinstance(v, dict)))


def _ctx(process_id, xml):
    from app.engine import runtime, specs
    draft = specs.parse_bundle({f"bpmn/{process_id}.bpmn": xml}).processes[0]
    return runtime.Context(spec_json=draft.spec_json, spec_key=f"{process_id}:{draft.content_hash}",
                           isolation=runtime.Isolation(mode="process"))


def _count_workflows(monkeypatch):
    from app.engine import runtime
    made = [0]
    real = runtime._Run.__init__

    def counting(self, *a, **k):
        made[0] += 1
        real(self, *a, **k)
    monkeypatch.setattr(runtime._Run, "__init__", counting)
    return made


def test_a_batch_start_goes_on_from_its_deferred_script_and_ends_as_a_single_start(monkeypatch):
    """A start whose deferred script is the only engine work ready is not run again from the beginning: it goes on
    in the same workflow once the answer is in, and its state (every task's element, state and data), projections
    and events are those of a single start; a failing script is still its own instance's incident."""
    from app.engine import runtime
    from tests.bpmn_builder import chain, definitions, process, script, user
    xml = definitions(process("two_scripts", chain(script("prepare", "y = x * 2"),
                                                   script("check", "z = 10 // (y - 6)"), user("visit"))))
    ctx = _ctx("two_scripts", xml)
    datas = [{"x": n} for n in range(1, 7)]
    made = _count_workflows(monkeypatch)
    many = runtime.start_many(ctx, datas)
    assert made[0] == 6                                      # one workflow per start, over both rounds
    for got, data in zip(many, datas):
        assert _shape(got) == _shape(runtime.start(ctx, data))
    assert [s.status for s in many] == ["waiting", "waiting", "error", "waiting", "waiting", "waiting"]


def test_a_batch_start_whose_script_is_not_alone_is_run_again_from_the_beginning(monkeypatch):
    """Parallel scripts (two engine tasks ready at the deferral) or a script inside a subprocess: the start is
    run again from the beginning with the answers (the fallback), and ends as a single start."""
    from app.engine import runtime
    from tests.bpmn_builder import chain, definitions, process, script, subprocess, user
    body = """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:parallelGateway id="fork"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>fa</bpmn:outgoing>
<bpmn:outgoing>fb</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:scriptTask id="sa"><bpmn:incoming>fa</bpmn:incoming><bpmn:outgoing>ja</bpmn:outgoing>
<bpmn:script>a = x + 1</bpmn:script></bpmn:scriptTask>
<bpmn:scriptTask id="sb"><bpmn:incoming>fb</bpmn:incoming><bpmn:outgoing>jb</bpmn:outgoing>
<bpmn:script>b = x + 2</bpmn:script></bpmn:scriptTask>
<bpmn:parallelGateway id="join"><bpmn:incoming>ja</bpmn:incoming><bpmn:incoming>jb</bpmn:incoming>
<bpmn:outgoing>fu</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:userTask id="visit"><bpmn:incoming>fu</bpmn:incoming><bpmn:outgoing>fe</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>fe</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
<bpmn:sequenceFlow id="fa" sourceRef="fork" targetRef="sa"/><bpmn:sequenceFlow id="fb" sourceRef="fork" targetRef="sb"/>
<bpmn:sequenceFlow id="ja" sourceRef="sa" targetRef="join"/><bpmn:sequenceFlow id="jb" sourceRef="sb" targetRef="join"/>
<bpmn:sequenceFlow id="fu" sourceRef="join" targetRef="visit"/><bpmn:sequenceFlow id="fe" sourceRef="visit" targetRef="end"/>"""
    nested = definitions(process("nested", chain(subprocess("inner", script("prepare", "y = x * 2")),
                                                 user("visit"))))
    for process_id, xml in (("parallel", definitions(process("parallel", body))), ("nested", nested)):
        ctx = _ctx(process_id, xml)
        datas = [{"x": n} for n in range(3)]
        made = _count_workflows(monkeypatch)
        many = runtime.start_many(ctx, datas)
        assert made[0] > len(datas), process_id              # rerun from the beginning at least once
        for got, data in zip(many, datas):
            assert got.status == "waiting"
            assert _shape(got)[:5] == _shape(runtime.start(ctx, data))[:5], process_id
