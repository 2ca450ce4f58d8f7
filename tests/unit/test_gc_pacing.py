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


def test_overlapping_blocks_in_two_threads_leave_the_thresholds_as_they_found_them():
    before = gc.get_threshold()
    entered, release = threading.Event(), threading.Event()

    def other():
        with fewer_collections():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with fewer_collections():
        thread.start()
        entered.wait(5)
    assert gc.get_threshold()[0] > before[0]       # the other thread's block still runs: not restored under it
    release.set()
    thread.join(5)
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
    entered, release = threading.Event(), threading.Event()

    def other():
        with paused():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with paused():
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
        thread.start()
        entered.wait(5)
    assert not gc.isenabled()               # the other thread's chunk still runs: the collector stays paused
    release.set()
    thread.join(5)
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
