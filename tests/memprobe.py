"""Diagnostic pytest plugin (not loaded by default): ``-p tests.memprobe``.

Every MEMPROBE_EVERY tests (default 25) it prints RSS, and the number of live Flask apps,
engines, sessions, connections and threads; MEMPROBE_TYPES=1 adds the top growing types.
"""

from __future__ import annotations

import collections
import gc
import os
import sys
import threading
import time
from typing import Any

EVERY = int(os.environ.get("MEMPROBE_EVERY", "25"))
TYPES = os.environ.get("MEMPROBE_TYPES") == "1"
_state: dict[str, Any] = {"n": 0, "base": None, "types": None, "t0": time.monotonic()}


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
    return 0


def _counts() -> dict[str, int]:
    names = {"Flask", "Engine", "Session", "Connection", "scoped_session", "QueuePool",
             "SingletonThreadPool", "NullPool", "_ConnectionRecord", "Config", "Alembic",
             "Blueprint", "Api", "MetaData", "Table", "FlaskClient", "AppContext",
             "RequestContext", "SQLiteDialect_pysqlite", "PGDialect_psycopg"}
    out: collections.Counter[str] = collections.Counter()
    for o in gc.get_objects():
        n = type(o).__name__
        if n in names:
            out[n] += 1
    return dict(out)


def _type_counts() -> collections.Counter[str]:
    c: collections.Counter[str] = collections.Counter()
    for o in gc.get_objects():
        t = type(o)
        c[f"{t.__module__}.{t.__qualname__}"] += 1
    return c


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    _state["n"] += 1
    hwm = _status("VmHWM")
    if hwm - _state.get("hwm", hwm) >= 10:
        sys.stderr.write(f"\n[memprobe] peak +{hwm - _state['hwm']}MB -> {hwm}MB in {nodeid}\n")
    _state["hwm"] = hwm
    n = _state["n"]
    if n % EVERY:
        return
    gc.collect()
    rss = _status("VmRSS")
    if _state["base"] is None:
        _state["base"] = (n, rss)
    n0, r0 = _state["base"]
    per = (rss - r0) * 1024 / (n - n0) if n > n0 else 0.0
    line = (f"\n[memprobe] n={n} t={time.monotonic() - _state['t0']:.0f}s rss={rss}MB "
            f"hwm={_status('VmHWM')}MB per_test={per:.0f}kB objs={len(gc.get_objects())} "
            f"threads={threading.active_count()} {_counts()}")
    if os.environ.get("MEMPROBE_TRACE") == "1":
        import tracemalloc

        if not tracemalloc.is_tracing():
            tracemalloc.start(8)
        else:
            line += f" traced={tracemalloc.get_traced_memory()[0] // 1024 // 1024}MB"
            if "snap" not in _state:
                _state["snap"] = tracemalloc.take_snapshot()
    if TYPES:
        now = _type_counts()
        if _state["types"] is not None:
            grow = (now - _state["types"]).most_common(15)
            line += "\n[memprobe] grew: " + ", ".join(f"{k}+{v}" for k, v in grow)
        _state["types"] = now
    sys.stderr.write(line + "\n")


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    gc.collect()
    before = len(gc.get_objects())
    from kt1.models import Base

    cached = sum(len(m._compiled_cache) for m in Base.registry.mappers)
    for m in Base.registry.mappers:
        m._compiled_cache.clear()
    gc.collect()
    sys.stderr.write(f"\n[memprobe] mapper caches: {cached} entries; clearing them frees "
                     f"{before - len(gc.get_objects())} objects, rss now {_status('VmRSS')}MB\n")
    if "snap" in _state:
        import tracemalloc

        snap = tracemalloc.take_snapshot()
        for stat in snap.compare_to(_state["snap"], "traceback")[:15]:
            sys.stderr.write(f"\n[memprobe] {stat}\n    " +
                             "\n    ".join(stat.traceback.format()[-16:]) + "\n")
    want = os.environ.get("MEMPROBE_CHAIN")
    if want:
        gc.collect()
        objs = [o for o in gc.get_objects() if type(o).__name__ == want]
        for o in objs[-3:] + objs[len(objs) // 2:len(objs) // 2 + 1]:
            c = backref_chain(o)
            sys.stderr.write(f"\n[memprobe] chain of {want} ({len(objs)} live):\n  "
                             + (describe(c) if c else "none") + "\n")
    sys.stderr.write(f"\n[memprobe] end rss={_status('VmRSS')}MB hwm={_status('VmHWM')}MB "
                     f"objs={len(gc.get_objects())}\n")
    _state["fin"] = time.monotonic()


def pytest_unconfigure(config: Any) -> None:
    stamp = os.environ.get("MEMPROBE_STAMP")
    if stamp:
        with open(stamp, "w") as f:
            f.write(f"{time.time()}\n")
import types  # noqa: E402


def backref_chain(obj, max_depth=30):
    """objgraph-style: shortest chain of referrers from obj to a module."""
    queue = collections.deque([obj])
    depth = {id(obj): 0}
    parent = {id(obj): None}
    keep = {id(obj): obj}
    ignore = {id(queue), id(depth), id(parent), id(keep)}
    ignore.add(id(sys._getframe()))
    while queue:
        target = queue.popleft()
        if isinstance(target, types.ModuleType):
            chain = [target]
            while parent[id(chain[-1])] is not None:
                chain.append(keep[parent[id(chain[-1])]])
            return chain
        if depth[id(target)] >= max_depth:
            continue
        refs = gc.get_referrers(target)
        ignore.add(id(refs))
        for src in refs:
            if id(src) in ignore or id(src) in depth or isinstance(src, types.FrameType):
                continue
            depth[id(src)] = depth[id(target)] + 1
            parent[id(src)] = id(target)
            keep[id(src)] = src
            queue.append(src)
    return None

def describe(chain):
    out = []
    for i, o in enumerate(chain):
        d = type(o).__name__
        if isinstance(o, types.ModuleType):
            d = "module " + o.__name__
        elif isinstance(o, dict) and i + 1 < len(chain):
            nxt = chain[i + 1]
            keys = [k for k, v in o.items() if v is nxt]
            d += f" key={keys[:1]}"
        elif isinstance(o, (list, tuple)) and i + 1 < len(chain):
            d += f" len={len(o)}"
        elif isinstance(o, types.FunctionType):
            d += " " + o.__qualname__ + " " + o.__module__
        elif isinstance(o, types.MethodType):
            d += " " + o.__func__.__qualname__
        else:
            d += " " + repr(o)[:80]
        out.append(d)
    return "\n  <- ".join(reversed(out))  # module first
