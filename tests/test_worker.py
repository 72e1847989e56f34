"""The forked worker processes (resolver.index.worker): the protocol on its own, then whole checks through the
console script against the loopback index, with the workers on, off, killed mid-run, and facing an index
that cannot be reached. Each runs in a fresh interpreter: a fork is only allowed from a process with one
thread, and the test process runs the index's server threads."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from resolver.index.client import IndexUnreachableError
from resolver.index.worker import default_count
from tests.indexserver import fixtures
from tests.indexserver.server import IndexServer
from tests.indexserver.wheels import WheelCache
from tests.scenario import ML, publish

index_server = fixtures.index_server
TARGET = ["--python", "3.11", "--platform", "manylinux_2_28_x86_64"]
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")

PROTOCOL = textwrap.dedent(
    """
    import json, os, sys, threading
    from concurrent.futures import Future
    from resolver.index.client import IndexUnreachableError
    from resolver.index.worker import WorkerGone, start

    waiting = {}
    ready = []

    class Local(Exception):  # a class defined here cannot be pickled by reference from the child's frame
        def __reduce__(self):
            raise TypeError("no")

    def serve(key):
        future = Future()
        kind, _, arg = key.partition(":")
        if kind == "echo":
            future.set_result(arg.upper().encode())
        elif kind == "setup":
            future.set_result(repr(ready).encode())
        elif kind == "error":
            future.set_exception(IndexUnreachableError("refused", url="https://u:secret@h/simple/", tried="1"))
        elif kind == "local":
            future.set_exception(Local())
        elif kind == "wait":
            waiting[key] = future
        elif kind == "die":
            os._exit(7)
        return future

    def hurry(key):
        future = waiting.pop(key, None)
        if future is not None:
            future.set_result(b"hurried")

    counted = []
    workers = start(serve, hurry=hurry, setup=lambda: ready.append(os.getpid()), count=1,
                    counts=lambda: {"requests": 1}, finish=lambda: None,
                    on_counts=lambda c: counted.append(c["requests"]))
    assert len(workers) == 1, "no fork"
    worker = workers[0]
    out = {"pid_differs": worker.pid != os.getpid()}
    out["echo"] = worker.submit("echo:abc").result(5).decode()
    out["setup"] = worker.submit("setup:").result(5).decode() == repr([worker.pid]) and ready == []
    error = worker.submit("error:").exception(5)
    out["error"] = [type(error).__name__, str(error), error.url, error.tried]
    out["local"] = type(worker.submit("local:").exception(5)).__name__
    waiter = worker.submit("wait:1")
    out["before_hurry"] = waiter.done()
    worker.hurry("wait:1")
    out["hurried"] = waiter.result(5).decode()
    out["counted"] = sum(counted)
    pending = worker.submit("wait:never")
    worker.submit("die:")
    out["after_death"] = type(pending.exception(5)).__name__
    out["alive"] = worker.alive
    out["late"] = type(worker.submit("echo:late").exception(5)).__name__
    worker.close()
    out["threads"] = threading.active_count()
    print(json.dumps(out))
    """
)


def _python(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60, check=False
    )


def test_the_protocol_answers_fails_hurries_and_survives_a_dead_worker() -> None:
    done = _python(PROTOCOL)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["pid_differs"] is True
    assert out["echo"] == "ABC"
    assert out["setup"] is True  # setup ran once, in the child only
    # An error raised in the worker comes back whole: its class and fields, credentials still redacted.
    assert out["error"][0] == "IndexUnreachableError"
    assert "secret" not in out["error"][1] and "refused" in out["error"][1]
    assert out["error"][2] == "https://u:***@h/simple/" and out["error"][3] == "1"
    # One that cannot travel means "do it yourself", never a made-up error.
    assert out["local"] == "WorkerGone"
    assert out["before_hurry"] is False and out["hurried"] == "hurried"
    assert out["counted"] == 5  # every answer carried its counters: echo, setup, error, local, hurried
    assert out["after_death"] == "WorkerGone" and out["alive"] is False and out["late"] == "WorkerGone"
    assert out["threads"] == 1  # the reply thread ended with the worker


def test_no_fork_when_switched_off_or_with_threads_running() -> None:
    code = textwrap.dedent(
        """
        import threading, time
        from resolver.index.worker import start
        args = dict(count=2, counts=dict, finish=lambda: None, on_counts=lambda c: None)
        print(len(start(lambda key: None, **args)))
        """
    )
    off = _python(code, env={**os.environ, "RELAX_PINS_WORKER": "0"})
    assert off.returncode == 0, off.stderr
    assert off.stdout.strip() == "0"
    threaded = _python("import threading, time\nthreading.Thread(target=time.sleep, args=(2,)).start()\n" + code)
    assert threaded.returncode == 0, threaded.stderr
    assert threaded.stdout.strip() == "0"


def test_relax_pins_errors_pickle_with_their_fields() -> None:
    error = IndexUnreachableError("gave up after HTTP 500", url="https://u:pw@h/simple/x/", tried="3", hint="h")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is IndexUnreachableError
    assert (again.url, again.reason, again.tried, again.hint, str(again)) == (
        error.url,
        error.reason,
        error.tried,
        error.hint,
        str(error),
    )


# -- whole checks through the console script ---------------------------------------------------------------


@pytest.fixture
def ml(index_server: IndexServer, wheel_cache: WheelCache, tmp_path: Path) -> dict[str, Any]:
    publish(index_server, wheel_cache, ML)
    (tmp_path / "requirements.txt").write_text(
        "torch>=2.7.0,<2.8.0\ntorchvision>=0.22.0,<0.23.0\ntransformers[torch]>=4.36.2,<4.38\nnumpy>=1.26\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "RELAX_PINS_WORKER"}
    env["PIP_CONFIG_FILE"] = os.devnull
    return {"env": env, "dir": tmp_path, "index": index_server.url}


def _command(ml: dict[str, Any], cache: str, *extra: str) -> list[str]:
    index = ml["index"]
    return [sys.executable, "-m", "resolver", "check", "requirements.txt", "--format", "json", "--index-url", index,
            "--cache-dir", str(ml["dir"] / cache), *TARGET, *extra]  # fmt: skip


def _check(ml: dict[str, Any], cache: str, *, workers: bool, extra: tuple[str, ...] = ()) -> tuple[int, dict[str, Any]]:
    env = dict(ml["env"])
    if not workers:
        env["RELAX_PINS_WORKER"] = "0"
    done = subprocess.run(
        _command(ml, cache, *extra), capture_output=True, text=True, cwd=ml["dir"], env=env, timeout=120, check=False
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def _verdict(doc: dict[str, Any]) -> tuple[object, ...]:
    return (doc["environments"][0]["resolution"], doc["findings"], doc["environments"][0]["requirements"], doc["ok"])


@pytest.mark.skipif(default_count() == 0, reason="one core: no workers are forked")
def test_workers_give_the_same_answer_and_a_warm_run_forks_none(ml: dict[str, Any]) -> None:
    code, alone = _check(ml, "cache-alone", workers=False)
    assert code == 0, alone
    assert alone["environments"][0]["index"]["worker_views"] == 0
    code, forked = _check(ml, "cache-forked", workers=True)
    assert code == 0, forked
    assert forked["environments"][0]["index"]["worker_views"] > 0  # the views came from the workers
    assert _verdict(forked) == _verdict(alone)
    code, warm = _check(ml, "cache-forked", workers=True)
    assert code == 0
    assert (
        warm["environments"][0]["index"]["worker_views"] == 0 and warm["environments"][0]["index"]["requests"] == 0
    )  # all from the cache, no fork
    assert _verdict(warm) == _verdict(alone)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


@pytest.mark.skipif(default_count() == 0, reason="one core: no workers are forked")
def test_killed_workers_leave_the_check_to_finish_in_process(ml: dict[str, Any], index_server: IndexServer) -> None:
    code, reference = _check(ml, "cache-reference", workers=False)
    assert code == 0
    index_server.slow("/simple/torch/", 2.0, times=1)  # holds a worker's first page while the test kills it
    proc = subprocess.Popen(
        _command(ml, "cache-killed"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ml["dir"],
        env=ml["env"],
    )  # fmt: skip
    deadline = time.monotonic() + 20
    killed: list[int] = []
    while len(killed) < default_count() and time.monotonic() < deadline:
        for child in _children(proc.pid):
            if child not in killed:
                os.kill(child, signal.SIGKILL)
                killed.append(child)
        time.sleep(0.01)
    out, err = proc.communicate(timeout=120)
    assert len(killed) == default_count(), err
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert _verdict(doc) == _verdict(reference)
    assert not _children(proc.pid)


@pytest.mark.skipif(default_count() == 0, reason="one core: no workers are forked")
def test_an_unreachable_index_reads_the_same_with_workers(ml: dict[str, Any], index_server: IndexServer) -> None:
    index_server.fail("/simple/*", 503)
    extra = ("--retries", "0")
    code_alone, alone = _check(ml, "cache-a", workers=False, extra=extra)
    code_forked, forked = _check(ml, "cache-b", workers=True, extra=extra)
    assert code_alone == code_forked == 3
    assert forked["environments"][0]["error"] == alone["environments"][0]["error"]
    assert "/simple/" in forked["environments"][0]["error"] and "503" in forked["environments"][0]["error"]


@pytest.mark.skipif(default_count() == 0, reason="one core: no workers are forked")
def test_an_unreachable_extra_index_found_by_a_worker_is_reported(ml: dict[str, Any]) -> None:
    """A worker process that finds an extra index down tells the parent with its answer: the check says the
    same (exit 3, the index named, the set still resolved) with workers as without."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/simple/"
    extra = ("--retries", "0", "--extra-index-url", dead)
    code_alone, alone = _check(ml, "cache-a", workers=False, extra=extra)
    code_forked, forked = _check(ml, "cache-b", workers=True, extra=extra)
    assert code_alone == code_forked == 3
    assert forked["environments"][0]["index"]["worker_views"] > 0
    assert forked["environments"][0]["error"] == alone["environments"][0]["error"]
    assert dead in forked["environments"][0]["error"]
    assert _verdict(forked) == _verdict(alone)
    assert forked["environments"][0]["resolution"]["highest"]["torch"].startswith("2.7.")
