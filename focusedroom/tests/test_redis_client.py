"""The process's Redis client: one per thread, each holding a connection of the shared pool; none
carried into a forked child."""

import gc
import os
import threading

from focusedroom import redis_client


def test_each_thread_holds_its_own_connection_of_one_pool(with_redis):
    mine = redis_client.client()
    assert redis_client.client() is mine
    other = {}

    def in_a_thread():
        other["client"] = redis_client.client()
        other["id"] = other["client"].client_id()

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert other["client"] is not mine
    assert other["client"].connection_pool is mine.connection_pool
    # Two connections to the server: the thread's command did not go through this thread's.
    assert other["id"] != mine.client_id()
    # A finished thread's client gives its connection back to the pool (short-lived request threads).
    pool = mine.connection_pool
    other.clear()
    del thread
    gc.collect()
    assert len(pool._in_use_connections) == 1


def test_a_forked_child_opens_its_own_connection(with_redis):
    parent_id = redis_client.client().client_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the id of its own connection
        os.close(read)
        try:
            answer = str(redis_client.client().client_id())
        except Exception as exc:  # the parent reports it
            answer = f"error {exc!r}"
        os.write(write, answer.encode())
        os._exit(0)
    os.close(write)
    answer = os.read(read, 200).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert answer.isdigit(), answer
    assert int(answer) != parent_id
    # The parent's connection still answers (the child did not use or close it).
    assert redis_client.client().client_id() == parent_id


def test_no_client_without_redis(settings):
    settings.REDIS_URL = ""
    assert redis_client.client() is None
