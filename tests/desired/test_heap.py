"""Long-lived data is built without full collections, then frozen (reconciler.heap)."""

from __future__ import annotations

import gc
import threading

from desired_support import EXPERT, Repo

from reconciler.desired.loader import load_repository
from reconciler.heap import NEVER, bulk


def test_a_bulk_phase_collects_only_the_young_generations() -> None:
    before = gc.get_threshold()
    with bulk():
        assert gc.get_threshold() == (before[0], before[1], NEVER)
        with bulk():  # a phase inside another
            assert gc.get_threshold()[2] == NEVER
        assert gc.get_threshold()[2] == NEVER
    assert gc.get_threshold() == before
    assert gc.isenabled()


def test_what_a_bulk_phase_built_is_frozen_out_of_the_collectors_sight() -> None:
    try:
        frozen = gc.get_freeze_count()
        with bulk():
            kept = [{"site": n} for n in range(100)]
        assert gc.get_freeze_count() >= frozen + len(kept)
    finally:
        gc.unfreeze()


def test_full_collections_wait_for_the_last_phase_of_any_thread() -> None:
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other_phase() -> None:
        with bulk():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_phase)
    thread.start()
    inside.wait(10)
    with bulk():
        pass
    assert gc.get_threshold()[2] == NEVER  # the other thread's phase still runs
    release.set()
    thread.join(10)
    assert gc.get_threshold() == before
    gc.unfreeze()


def test_loading_a_repository_leaves_the_collector_as_it_was(repo: Repo) -> None:
    before = gc.get_threshold()
    repo.site("a", "id: a\nowner: expert\n")
    assert load_repository(repo.root).sites["a"].owner == EXPERT
    assert gc.get_threshold() == before
    assert gc.isenabled()
    gc.unfreeze()


def test_an_error_inside_a_bulk_phase_restores_the_collector() -> None:
    before = gc.get_threshold()
    try:
        with bulk():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.get_threshold() == before
    gc.unfreeze()
