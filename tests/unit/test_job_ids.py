"""Job ids are valid for rq (issue 13.1): built from a safe alphabet, deterministic, and never merged."""
from __future__ import annotations

import pytest
from rq.job import validate_job_id

from app.jobs.ids import job_id

UNSAFE = ["screen-1-observation.create-7056", "regrade-3-1764790000.123456", "a b/c:d", "随访-7",
          "key\x00with-nul", "lone-\udcff-surrogate"]


@pytest.mark.parametrize("raw", UNSAFE)
def test_rq_accepts_every_id_built_from_an_unsafe_string(raw):
    with pytest.raises(ValueError):
        validate_job_id(raw)                      # rq itself refuses the raw string
    built = job_id(raw)
    validate_job_id(built)
    assert len(built) <= 120 and built == job_id(raw)


def test_a_safe_id_is_kept_as_it_is():
    assert job_id("svc-12-3") == "svc-12-3"
    assert job_id("screen", 1, "observation_create", 7) == "screen-1-observation_create-7"


def test_a_very_long_id_is_shortened_and_stays_valid():
    built = job_id("x" * 400)
    validate_job_id(built)
    assert len(built) <= 120


def test_two_different_ids_never_become_the_same_one():
    assert job_id("a.b") != job_id("a_b") != job_id("a:b")
    assert job_id("x" * 400) != job_id("x" * 399 + "y")


def test_an_empty_id_is_refused():
    with pytest.raises(ValueError):
        job_id("")
