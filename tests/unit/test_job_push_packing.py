"""A job push's command is packed by app.jobs.backend itself (issue 23): byte for byte what redis-py would send."""
from __future__ import annotations

import pytest
from redis.connection import Connection
from redis.exceptions import DataError

from app.jobs.backend import _packed

PARTS = [b"EVALSHA", "0123abcd", 4, "rq:job:task-new-1", "rq:queue:ygt", "rq:queues", "ygt:outbox:sent:1:2.5",
         "task-new-1", -1, 90000, b'["status", "queued"]', "created_at", "2026-12-05T03:04:05.123456Z", "data",
         b"x\x9c\x00\r\n\xff", "description", "app.tasks.jobs.announce(7, '王建国')", 1.5, 0, 2**70]


def test_a_push_is_packed_as_redis_py_packs_it():
    assert _packed(PARTS) == b"".join(Connection().pack_command(*PARTS))


@pytest.mark.parametrize("bad", [True, None, [1], {"a": 1}])
def test_a_value_redis_py_refuses_is_refused(bad):
    with pytest.raises(DataError):
        b"".join(Connection().pack_command(b"EVALSHA", bad))
    with pytest.raises(DataError):
        _packed([b"EVALSHA", bad])
