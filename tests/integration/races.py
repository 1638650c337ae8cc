"""Running one piece of work on many real threads at once, for the race tests on the real Redis."""
from __future__ import annotations

import threading
from collections.abc import Callable


def run_threads(count: int, work: Callable[[int], None], timeout: float = 120.0) -> list[BaseException]:
    """Run ``work(index)`` on ``count`` threads released together by a barrier (so they truly race);
    return what they raised, for the test to report."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def runner(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
