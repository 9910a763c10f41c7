"""Running a batch: records in order through local processes or a Dask cluster, lines out in order.

Memory stays bounded by a window of chunks in flight (``WINDOW_PER_WORKER`` per worker):
the next chunk is read only when the oldest result has been written, so neither the input
nor the output is ever held whole, and a slow chunk holds the window rather than letting
results pile up out of order.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import sys
import time
import weakref
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TextIO

from hazardjudge.api import Engine
from hazardjudge.batch.judging import Judged, Record, judge_chunk, valid_id
from hazardjudge.batch.sources import Source
from hazardjudge.engine.heap import settle
from hazardjudge.errors import InputError, Problem

#: records per task: big enough that shipping a task costs little beside judging it
CHUNK_LOCAL = 64
CHUNK_DASK = 256
WINDOW_PER_WORKER = 4
#: the output is flushed to the disk (fsync) at least this often, so --resume loses little after a crash
FSYNC_LINES = 2000
FSYNC_SECONDS = 5.0


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def chunked(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(records)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


# ---------------------------------------------------------------------------- local processes

_job: Any = None
# The jobs this process has prepared (a Dask worker may be handed several), held weakly:
# a library caller's engines must stay free to go.
_prepared: "weakref.WeakSet[Any]" = weakref.WeakSet()


def prepare(job: Any, heap: bool = True) -> None:
    """Make a process that will judge many records with ``job``'s engines ready, once per job.

    Every ruleset is created now rather than on the first record that needs it, then the
    collector is told to leave everything alive (the bundle, the compiled rulesets, the
    engines' memos) out of its generations: in a worker that judges thousands of records
    its full collections would otherwise walk the whole bundle again and again (the p99
    of a verdict was 6–9x its median before the service did the same). ``heap`` False:
    rulesets only, for a process this run does not own (a library caller, a test) —
    settle() freezes everything alive in the process.
    """
    if job in _prepared:
        return
    engines = [v for v in vars(job).values() if isinstance(v, Engine)] if hasattr(job, "__dict__") else []
    for engine in engines:
        engine._evaluator.warm()
    if heap:
        settle()
    _prepared.add(job)


def _init(job: Any) -> None:
    # Unpickling the job unpickles its engines: each worker process loads the bundle here, once.
    # Ctrl-C reaches the whole process group; the main process alone stops the run (it
    # finishes the chunks in hand and leaves whole lines), so the workers ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _job
    _job = job
    prepare(job)


def _call(fn: Callable, chunk: list[Record]) -> list:
    return fn(_job, chunk)


def _ordered(submit: Callable[[list[Record]], Any], get: Callable[[Any], list], chunks: Iterator[list[Record]], window: int) -> Iterator[list]:
    pending: deque = deque()
    for chunk in chunks:
        pending.append(submit(chunk))
        if len(pending) >= window:
            yield get(pending.popleft())
    while pending:
        yield get(pending.popleft())


def run_local(fn: Callable, job: Any, records: Iterable[Record], workers: int, own_process: bool = False) -> Iterator[list]:
    """Chunks of results in input order; ``workers`` 1 judges in this process (settled only if ``own_process``)."""
    if workers <= 1:
        prepare(job, heap=own_process)
        for chunk in chunked(records, CHUNK_LOCAL):
            yield fn(job, chunk)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a worker starts from a clean interpreter and loads the bundle by its
    # fingerprint, as a Dask worker does, instead of inheriting the C core's state mid-use.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init, initargs=(job,))
    try:
        yield from _ordered(lambda c: pool.submit(_call, fn, c), lambda f: f.result(), chunked(records, CHUNK_LOCAL), workers * WINDOW_PER_WORKER)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------- Dask


class ClusterError(Exception):
    """The Dask cluster named by --dask cannot be used (not installed, not reachable)."""


#: how long to wait for a --dask scheduler before giving up
CONNECT_SECONDS = 30


def _on_dask(fn: Callable, job: Any, chunk: list[Record]) -> list:
    # The scattered job is unpickled once per Dask worker; it is prepared on its first chunk there.
    prepare(job)
    return fn(job, chunk)


def run_dask(fn: Callable, job: Any, records: Iterable[Record], address: str, workers: int) -> Iterator[list]:
    """The same chunks on a Dask cluster (``local``: a LocalCluster of ``workers`` processes)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError("未安装 Dask：请安装 hazardjudge[dask]（即 dask[distributed]）后再用 --dask") from None
    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout=CONNECT_SECONDS)
        except (OSError, ValueError, TypeError) as exc:
            raise ClusterError(f"无法连接 Dask 调度器 {address}：{exc}") from None
    try:
        # Scattered once: each worker unpickles the job (and loads the bundle) once, not per task.
        shared = client.scatter(job, broadcast=True, hash=False)
        window = max(1, sum(client.nthreads().values())) * WINDOW_PER_WORKER
        yield from _ordered(
            lambda c: client.submit(_on_dask, fn, shared, c, pure=False), lambda f: f.result(), chunked(records, CHUNK_DASK), window
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def results(fn: Callable, job: Any, records: Iterable[Record], workers: int, dask: str | None, own_process: bool = False) -> Iterator:
    """Every result, in input order, from wherever the work runs.

    ``own_process``: this process is the command's own (the CLI, not a library caller), so
    it may settle its heap when it judges in-process (``workers`` 1)."""
    chunks = run_dask(fn, job, records, dask, workers) if dask else run_local(fn, job, records, workers, own_process)
    for chunk in chunks:
        yield from chunk


# ---------------------------------------------------------------------------- writing


class LineWriter:
    """Lines to a file (or standard output), each written whole, synced to disk now and then."""

    def __init__(self, path: str, append: bool = False) -> None:
        self.stdout = path == "-"
        self.f = sys.stdout.buffer if self.stdout else open(path, "ab" if append else "wb")
        self.lines = 0
        self.synced = time.monotonic()

    def write(self, text: str) -> None:
        self.f.write(text.encode("utf-8") + b"\n")
        self.lines += 1
        if self.lines % FSYNC_LINES == 0 or time.monotonic() - self.synced > FSYNC_SECONDS:
            self.sync()

    def sync(self) -> None:
        self.f.flush()
        if not self.stdout:
            os.fsync(self.f.fileno())
        self.synced = time.monotonic()

    def close(self) -> None:
        self.sync()
        if not self.stdout:
            self.f.close()


# ---------------------------------------------------------------------------- resuming

# The envelope's first fields, in the order the views write them.
_HEAD = re.compile(rb'^\{"id":(null|-?\d+|"(?:[^"\\]|\\.)*"),"line":(\d+),"date":[^,]*,"outcome":(null|"\w+")')
_CLEAN_TAIL = b',"errors":[]}'


@dataclass
class Done:
    """What an earlier, interrupted run already wrote."""

    line: int = 0  # the last input line judged
    id: Any = None
    outcomes: Counter = field(default_factory=Counter)
    failed: int = 0
    internal: int = 0
    full: bool | None = None  # the view the output was written in (None: empty output)


def _resume_error(message: str) -> InputError:
    return InputError([Problem("batch.resume", message, None, "请确认输入、输出文件和 --view 与中断前相同，或去掉 --resume 重新开始")])


def _truncate_torn(f) -> None:
    """Cut a last line left half written by a killed run: every whole line ends with its newline."""
    f.seek(0, 2)
    size = pos = f.tell()
    while pos > 0:
        start = max(0, pos - (1 << 16))
        f.seek(start)
        i = f.read(pos - start).rfind(b"\n")
        if i >= 0:
            if start + i + 1 != size:
                f.truncate(start + i + 1)
            return
        pos = start
    f.truncate(0)


def read_done(path: Path) -> Done:
    """The last line an interrupted run wrote whole, and what it had counted; a torn last line is cut off."""
    done = Done()
    if not path.exists():
        return done
    with open(path, "r+b") as f:
        _truncate_torn(f)
        f.seek(0)
        for number, raw in enumerate(f, 1):
            m = _HEAD.match(raw)
            if m is None:
                raise _resume_error(f"{path} 的第 {number} 行不是 hazardjudge batch 的输出")
            done.line, done.id = int(m.group(2)), json.loads(m.group(1))
            outcome = m.group(3)
            if outcome == b"null":
                done.failed += 1
                done.internal += b'"code":"batch.internal"' in raw
            else:
                done.outcomes[outcome.strip(b'"').decode()] += 1
            full = b',"verdict":' in raw[: m.end() + 80]
            if done.full is None:
                done.full = full
    return done


def trim_errors(path: Path, through: int) -> None:
    """Keep the error stream's entries for lines up to ``through`` (those the output holds)."""
    if not path.exists():
        return
    with open(path, "r+b") as f:
        keep = 0
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            try:
                line = json.loads(raw)["line"]
            except (ValueError, KeyError, TypeError):
                break
            if line > through:
                break
            keep += len(raw)
        f.truncate(keep)


def skip_done(records: Iterable[Record], done: Done, read_id: Callable[[Record], Any]) -> Iterator[Record]:
    """The records after the last one the output holds, once the input is checked to be the same."""
    it = iter(records)
    if done.line:
        for r in it:
            if r.line == done.line:
                if read_id(r) != done.id:
                    raise _resume_error(f"输出的最后一行（第 {done.line} 行，id {done.id!r}）与输入该行的 id 不符")
                break
            if r.line > done.line:
                raise _resume_error(f"输入中没有第 {done.line} 行（输出的最后一行）")
        else:
            raise _resume_error(f"输入不足 {done.line} 行，而输出已写到第 {done.line} 行")
    yield from it


def record_id(r: Record) -> Any:
    if r.form != "jsonl":
        return r.id
    try:
        data = json.loads(r.text)
    except ValueError:
        return None
    ident = data.get("id") if isinstance(data, dict) else None
    return ident if valid_id(ident) else None  # as its output line has it


# ---------------------------------------------------------------------------- the batch command


@dataclass
class Summary:
    outcomes: Counter = field(default_factory=Counter)
    failed: int = 0
    internal: int = 0
    skipped: int = 0  # judged by the interrupted run this one resumed
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def judged(self) -> int:
        return sum(self.outcomes.values())

    def text(self) -> str:
        o = self.outcomes
        head = "已中断" if self.interrupted else "完成"
        parts = [
            f"{head}：判定 {self.judged} 条（存在重大隐患 {o['major']}，未发现重大隐患 {o['none']}，无法判定 {o['undetermined']}）",
            f"失败 {self.failed} 条" + (f"（其中内部错误 {self.internal} 条）" if self.internal else ""),
        ]
        if self.skipped:
            parts.append(f"其中 {self.skipped} 条为中断前已判定（续跑未重判）")
        rate = (self.judged + self.failed - self.skipped) / self.seconds if self.seconds > 0 else 0.0
        parts.append(f"用时 {self.seconds:.1f} 秒（{rate:.0f} 条/秒）")
        tail = "；可加 --resume 从中断处继续" if self.interrupted else ""
        return "，".join(parts[:2]) + "；" + "；".join(parts[2:]) + tail


def _error_text(source: Source, judged: Judged) -> list[str]:
    where = source.name if not source.folder else f"{source.name.rstrip('/')}/"
    out = []
    for e in judged.errors:
        hint = f"（{e['hint']}）" if e.get("hint") else ""
        label = f"{where}:{judged.line}" if not source.folder else f"{where}{judged.id}"
        out.append(f"{label}: error: [{e['code']}] {e['message']}{hint}")
    return out


def run_batch(
    source: Source,
    out: str,
    job: Any,
    *,
    workers: int,
    dask: str | None = None,
    resume: bool = False,
    errors: str | None = None,
    stderr: TextIO,
    progress: bool = False,
    own_process: bool = False,
) -> Summary:
    summary = Summary()
    started = time.monotonic()
    done = Done()
    if resume:
        done = read_done(Path(out))
        if done.full is not None and done.full != (job.view == "full"):
            raise _resume_error(f"{out} 是以 --view {'full' if done.full else 'findings'} 写出的")
        if errors:
            trim_errors(Path(errors), done.line)
        summary.outcomes, summary.failed, summary.internal = done.outcomes, done.failed, done.internal
        summary.skipped = done.failed + sum(done.outcomes.values())
    records = skip_done(source.records(), done, record_id)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=source.count(), initial=summary.skipped, unit="条", file=stderr, dynamic_ncols=True, smoothing=0.05)
    writer = LineWriter(out, append=resume)
    error_writer = LineWriter(errors, append=resume) if errors else None
    try:
        for judged in results(judge_chunk, job, records, workers, dask, own_process):
            writer.write(judged.text)
            if judged.outcome is None:
                summary.failed += 1
                summary.internal += judged.internal
                if error_writer:
                    error_writer.write(json.dumps({"line": judged.line, "id": judged.id, "source": source.name, "errors": judged.errors}, ensure_ascii=False))
                else:
                    # Above the bar, not through it.
                    for text in _error_text(source, judged):
                        (bar.write(text, file=stderr) if bar else print(text, file=stderr))
            else:
                summary.outcomes[judged.outcome] += 1
            if bar:
                bar.update(1)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        writer.close()
        if error_writer:
            error_writer.close()
        if bar:
            bar.close()
        summary.seconds = time.monotonic() - started
    return summary
