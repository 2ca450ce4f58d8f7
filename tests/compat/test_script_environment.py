"""Scripts as SpiffWorkflow runs them (issue 14.9): `datetime` is the module, task data are the script's names, the
usual builtins are there, a process without isExecutable runs. Each scenario goes through the platform's API and
through bare SpiffWorkflow (spiff-example-cli's `TaskDataEnvironment({"datetime": datetime})`), and is compared."""
from __future__ import annotations

import pytest

from tests.compat.conftest import model
from tests.compat.harness import by_process, run_bare

KEYS = ["next_visit", "weekday", "weeks", "days_left", "stamp", "readings", "mean_sbp", "recent", "plan"]


def _compare(platform, data):
    files = model("follow_up_dates.bpmn")
    platform.deploy(files)
    platform.start("follow_up_dates", data)
    ours, bare = by_process(platform.outcomes()), by_process(run_bare(files, "follow_up_dates", data, []))
    [o], [b] = ours["follow_up_dates"], bare["follow_up_dates"]
    assert o.comparable(KEYS) == b.comparable(KEYS)
    assert o.status == b.status == "completed", o.extra
    return o


@pytest.mark.parametrize(("raw", "plan"), [(["162", "171", "158"], "soon"), (["128", "131"], "routine")])
def test_scripts_use_datetime_as_the_module_and_the_task_data(platform, raw, plan):
    inst = _compare(platform, {"seen_on": "2026-11-20", "interval_days": 30, "raw_readings": raw})
    assert inst.data["next_visit"] == "2026-12-20"
    assert (inst.data["weeks"], inst.data["days_left"]) == (4, 2)
    assert inst.data["stamp"] == "2026-11-20T08:30:00+00:00"
    assert inst.data["recent"] is True
    assert inst.data["plan"] == plan
    assert "seen" not in inst.data and "due" not in inst.data


def test_the_datetime_module_does_not_open_the_sandbox(platform):
    from app.engine import sandbox
    with pytest.raises(sandbox.SandboxError):
        sandbox.evaluate("datetime.sys", {})
    with pytest.raises(sandbox.SandboxError):
        sandbox.execute("x = datetime.sys.modules", {})
    assert sandbox.evaluate("datetime.datetime(2026, 1, 2).date() + datetime.timedelta(days=1)", {}).isoformat() \
        == "2026-01-03"


def test_print_in_a_script_is_accepted_and_its_output_discarded(platform):
    """SpiffWorkflow's own test models print from scripts; here the call is accepted (nothing is written anywhere)
    and the script's data are those of bare SpiffWorkflow."""
    files = model("dose_log.bpmn")
    platform.deploy(files)
    platform.start("dose_log", {"doses": [5, 10, 2.5]})
    [ours] = by_process(platform.outcomes())["dose_log"]
    [bare] = by_process(run_bare(files, "dose_log", {"doses": [5, 10, 2.5]}, []))["dose_log"]
    assert ours.comparable(["total_mg"]) == bare.comparable(["total_mg"])
    assert (ours.status, ours.data["total_mg"]) == ("completed", 17.5)
