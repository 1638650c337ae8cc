"""The waitlist's client on a real Redis: every thread talks over a connection of its own (see
``waitlist.store.connections.ThreadConnectionRedis``), and nothing else about the client changes."""
from __future__ import annotations

import os
import threading
from typing import Any

from waitlist.store.connections import ThreadConnectionRedis


def client_id(redis: Any) -> int:
    """The server's id of the connection this call went over."""
    return int(redis.client_id())


def in_threads(count: int, work: Any) -> list[Any]:
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()  # all alive at once, so none can inherit a finished thread's connection
        results[index] = work()
        # ... and none ends before every other has made its calls: a finished thread's connection goes
        # back to the pool, where a thread that had not yet called would find it.
        barrier.wait()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_service_client_is_the_per_thread_one(real_redis: Any) -> None:
    assert type(real_redis) is ThreadConnectionRedis


def test_a_thread_keeps_one_connection_and_no_two_threads_share_one(real_redis: Any) -> None:
    def ids() -> tuple[int, int, int]:
        first = client_id(real_redis)
        real_redis.set(f"conn-test:{first}", "1")
        return first, client_id(real_redis), client_id(real_redis)

    results = in_threads(8, ids)
    assert all(a == b == c for a, b, c in results)
    assert len({a for a, _b, _c in results}) == 8
    assert client_id(real_redis) not in {a for a, _b, _c in results}


def test_a_finished_thread_gives_its_connection_back_to_the_pool(real_redis: Any) -> None:
    import gc

    client_id(real_redis)
    in_threads(4, lambda: client_id(real_redis))
    gc.collect()
    assert in_use(real_redis.connection_pool) == 1  # the main thread's


def in_use(pool: Any) -> int:
    """Connections of the (blocking) pool checked out now: made, less those waiting in its queue."""
    return len(pool._connections) - sum(1 for connection in pool.pool.queue if connection is not None)


def test_a_request_hands_its_thread_client_to_the_next_request_of_any_thread(real_redis: Any) -> None:
    def request() -> int:
        used = client_id(real_redis)
        real_redis.release_thread_connection()  # the app's teardown, at the end of every request
        return used

    first = in_threads(1, request)[0]
    before = in_use(real_redis.connection_pool)
    assert in_threads(1, request)[0] == first  # the spare, its connection and all: none made, none lost
    assert in_use(real_redis.connection_pool) == before


def test_commands_from_many_threads_each_get_their_own_answer(real_redis: Any) -> None:
    def work() -> bool:
        name = f"conn-test:{threading.get_ident()}"
        for n in range(200):
            real_redis.set(name, str(n))
            if real_redis.get(name) != str(n):
                return False
        return True

    assert all(in_threads(16, work))


def test_a_killed_connection_is_replaced_and_the_command_retried(real_redis: Any) -> None:
    old = client_id(real_redis)
    real_redis.connection_pool.get_connection().send_command("CLIENT", "KILL", "ID", old)  # another connection
    assert real_redis.set("conn-test:after-kill", "1") is True
    assert client_id(real_redis) != old


def test_pipelines_and_pubsub_take_their_own_connections(real_redis: Any) -> None:
    mine = client_id(real_redis)
    pipe = real_redis.pipeline(transaction=True)
    pipe.client_id()
    pipe.incr("conn-test:n")
    piped_id, value = pipe.execute()
    assert piped_id != mine and value == 1
    pubsub = real_redis.pubsub()
    pubsub.subscribe("conn-test:channel")
    pubsub.get_message(timeout=1.0)
    assert real_redis.publish("conn-test:channel", "hello") == 1  # this thread's connection is not subscribed
    message = pubsub.get_message(timeout=1.0)
    pubsub.close()
    assert message is not None and message["data"] == "hello"


def test_a_forked_child_never_uses_its_parents_socket(real_redis: Any) -> None:
    parent = client_id(real_redis)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its connection's id, then leave without running any cleanup
        try:
            child = client_id(real_redis)
            real_redis.set("conn-test:child", "set by the child")
            os.write(write_end, str(child).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    child = int(os.read(read_end, 64).decode() or "0")
    os.close(read_end)
    os.waitpid(pid, 0)
    assert child and child != parent
    assert client_id(real_redis) == parent  # the parent's connection still answers in step
    assert real_redis.get("conn-test:child") == "set by the child"
