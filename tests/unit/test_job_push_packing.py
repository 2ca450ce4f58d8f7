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


def test_a_jobs_data_is_compressed_to_the_bytes_zlib_compress_gives():
    """`compress` sizes zlib's memory to the data (issue 23): the same stream as `zlib.compress` (rq's) for the
    data of jobs as they are (ids, guids, short lists and texts) and for repetitive and random bytes, up to the size
    it handles itself and past it."""
    import pickle
    import random
    import string
    import zlib

    from app.jobs.backend import COMPRESS_SIZED_MAX, compress
    rnd = random.Random(23)
    alphabets = ["ab", "a", string.ascii_letters, "abc-0123", "王建国", string.printable]
    samples = [b"", b"x", b"a" * COMPRESS_SIZED_MAX, bytes(range(256)) * 4, b"ab" * 700]
    for _ in range(4000):
        k = rnd.choice([1, 2, 5, 20, 100, 300, 600])
        args = tuple(rnd.choice([rnd.randint(0, 10**9), "".join(rnd.choices(rnd.choice(alphabets), k=rnd.randint(1, k))),
                                 [rnd.randint(0, rnd.choice([1, 3, 99]))] * rnd.randint(0, k),
                                 rnd.choice(["王建国", "ab", "abcabd"]) * rnd.randint(0, k),
                                 rnd.randbytes(rnd.randint(0, k))]) for _ in range(rnd.randint(0, 4)))
        samples.append(pickle.dumps(("app.notifications.jobs.notify_new_task", None, args, {})))
    assert sum(len(s) <= COMPRESS_SIZED_MAX for s in samples) > 3000
    for data in samples:
        assert compress(data) == zlib.compress(data), data


def test_a_time_is_written_as_rq_writes_it():
    from datetime import UTC, datetime

    from rq.utils import utcformat

    from app.jobs.backend import utc_text
    for at in (datetime(2026, 12, 6, 5, 0, 0, 0, UTC), datetime(2026, 1, 2, 3, 4, 5, 6, UTC),
               datetime(2026, 12, 31, 23, 59, 59, 999999, UTC), datetime.now(UTC)):
        assert utc_text(at) == utcformat(at)
