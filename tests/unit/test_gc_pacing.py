"""app.core.collection: a batch chunk collects garbage less often, a screening chunk not at all, and the collector comes back as it was."""
import gc
import threading

from app.core.collection import fewer_collections, paused


def test_the_young_threshold_is_raised_inside_and_restored_after():
    before = gc.get_threshold()
    with fewer_collections(young=50_000):
        assert gc.get_threshold() == (max(50_000, before[0]), *before[1:])
    assert gc.get_threshold() == before


def test_nested_blocks_restore_the_thresholds_only_when_the_outer_one_ends():
    before = gc.get_threshold()
    with fewer_collections(young=20_000):
        with fewer_collections(young=50_000):
            assert gc.get_threshold()[0] == max(50_000, before[0])
        assert gc.get_threshold()[0] >= 20_000
    assert gc.get_threshold() == before


class _HeldInAnotherThread:
    """A block of `make()` entered in another thread, held open until `release()`: `start()` returns once it is in."""

    def __init__(self, make):
        self.entered, self.released = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(make,))

    def _hold(self, make) -> None:
        with make():
            self.entered.set()
            self.released.wait(5)

    def start(self) -> None:
        self.thread.start()
        assert self.entered.wait(5)

    def release(self) -> None:
        self.released.set()
        self.thread.join(5)


def test_overlapping_blocks_in_two_threads_leave_the_thresholds_as_they_found_them():
    before = gc.get_threshold()
    other = _HeldInAnotherThread(fewer_collections)
    with fewer_collections():
        other.start()
    assert gc.get_threshold()[0] > before[0]       # the other thread's block still runs: not restored under it
    other.release()
    assert gc.get_threshold() == before


def test_an_exception_in_the_block_still_restores_the_thresholds():
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise RuntimeError("bad chunk")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before


def test_paused_blocks_nest_and_overlap_and_enable_the_collector_only_when_the_last_one_ends():
    assert gc.isenabled()
    other = _HeldInAnotherThread(paused)
    with paused():
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
        other.start()
    assert not gc.isenabled()               # the other thread's chunk still runs: the collector stays paused
    other.release()
    assert gc.isenabled()


def test_a_failing_paused_block_enables_the_collector_again_and_a_disabled_one_stays_disabled():
    try:
        with paused():
            raise RuntimeError("bad chunk")
    except RuntimeError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
