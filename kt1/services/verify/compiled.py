"""The rulebook compiled into the verifier's replay: one function for a whole chain.

A replay judges millions of links; calling a dozen small rule functions for each costs
more than the rules themselves. So, once at import, the verifier's own tamper check, every
link rule (:data:`kt1.services.rules.book.LINK_RULES`, in judging order, each behind the
test of its kinds) and :func:`kt1.services.rules.advance` are compiled into one function
whose body is theirs: the same source, not a second copy of the rules. Each rule's
``return X`` becomes "record X, go to the next rule" (what follows a return moves into the
branch that does not return), ``ln.<field>`` a local variable unpacked once from the link
(the names come from :data:`kt1.services.chain.HANDOFF_FIELDS`), ``st.<field>`` a local
variable of the chain's state.

When a rule cannot be inlined safely (a loop, a comprehension, a nested function, a name
it does not know), every rule is called as it is instead, from the same loop; that is also
the reference the differential test compares the compiled replay with, on every step.
"""

from __future__ import annotations

import ast
import binascii
import builtins
import copy
import dataclasses
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from kt1.services.chain import HASHED_FIELDS
from kt1.services.rules.custody import advance
from kt1.services.rules.facts import JSON_NULL, LINK_NAMES, WIRE_NULL, ChainState, Link

STATE_FIELDS = tuple(f.name for f in dataclasses.fields(ChainState))

_PARAMS = ("st", "ln", "env", "w")
Add = Callable[[list[Any], Any, bytes], None]


class _Inline(ast.NodeTransformer):
    """``ln.x`` -> ``ln_x``; ``return X`` -> record X if it is not None (marked:
    :func:`_elim` moves what follows a return into the branch that does not return)."""

    def __init__(self, state_locals: bool = False) -> None:
        self.bare_ln = False
        self.bare_st = False
        self.state_locals = state_locals

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if isinstance(node.value, ast.Name) and node.value.id == "ln" and (
                node.attr in LINK_NAMES):
            target = ast.Name(id=f"ln_{node.attr}", ctx=node.ctx)
            return ast.copy_location(target, node)
        if self.state_locals and isinstance(node.value, ast.Name) and (
                node.value.id == "st" and node.attr in STATE_FIELDS):
            return ast.copy_location(ast.Name(id=f"st_{node.attr}", ctx=node.ctx), node)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id == "ln":
            self.bare_ln = True
        if node.id == "st" and self.state_locals:
            self.bare_st = True
        return node

    def visit_Return(self, node: ast.Return) -> Any:
        value = self.visit(node.value) if node.value is not None else ast.Constant(None)
        if isinstance(value, ast.Constant) and value.value is None:
            stmt: ast.stmt = ast.Pass()  # nothing found
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and (
                value.func.id == "hit"):  # found, always: record it
            stmt = ast.parse("_add(findings, _HIT, seq)").body[0]
            stmt.value.args[1] = value  # type: ignore[attr-defined]
        else:  # found, or None
            stmt = ast.parse("if (_r := _HIT) is not None: _add(findings, _r, seq)").body[0]
            stmt.test.left.value = value  # type: ignore[attr-defined]
        stmt._kt1_return = True  # type: ignore[attr-defined]
        return ast.copy_location(stmt, node)


def _is_return(node: ast.AST) -> bool:
    return getattr(node, "_kt1_return", False)


def _always_returns(stmts: list[ast.stmt]) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, ast.If):
        return _always_returns(last.body) and _always_returns(last.orelse)
    return _is_return(last)


def _elim(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """The same statements without early returns: what follows an ``if`` that may return
    moves into the branch (or branches) that do not."""
    out: list[ast.stmt] = []
    for i, stmt in enumerate(stmts):
        if _is_return(stmt):
            out.append(stmt)
            return out
        if isinstance(stmt, ast.If) and any(_is_return(n) for n in ast.walk(stmt)):
            rest = stmts[i + 1:]
            body = stmt.body if _always_returns(stmt.body) else [*stmt.body, *rest]
            orelse = stmt.orelse if _always_returns(stmt.orelse) else [
                *stmt.orelse, *copy.deepcopy(rest)]
            stmt.body = _elim(body) or [ast.Pass()]
            stmt.orelse = _elim(orelse)
            out.append(stmt)
            return out
        out.append(stmt)
    return out


def _body(fn: Callable[..., Any], state_locals: bool = False
          ) -> tuple[list[ast.stmt], set[str]] | None:
    """The statements of ``fn`` rewritten for inlining, and the global names they use;
    None when it cannot be inlined."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    fdef = tree.body[0]
    if not isinstance(fdef, ast.FunctionDef):
        return None
    params = tuple(a.arg for a in fdef.args.args)
    nodes = [n for stmt in fdef.body for n in ast.walk(stmt)]
    if params != _PARAMS[:len(params)] or any(isinstance(n, (
            ast.For, ast.While, ast.FunctionDef, ast.Lambda, ast.ListComp, ast.GeneratorExp,
            ast.DictComp, ast.SetComp, ast.Global, ast.Nonlocal, ast.Yield))
            for n in nodes):
        return None
    body = list(fdef.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    inline = _Inline(state_locals)
    new = [inline.visit(stmt) for stmt in body]
    if inline.bare_ln or inline.bare_st:
        return None
    flat: list[ast.stmt] = []
    for stmt in new:
        flat.extend(stmt if isinstance(stmt, list) else [stmt])
    assigned = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    loaded = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return flat, loaded - assigned - set(_PARAMS) - {"_r"}


def _globals_for(fns: list[Callable[..., Any]], names: set[str]) -> dict[str, Any] | None:
    """The globals the inlined bodies need; None if two modules mean different things by
    one name."""
    merged: dict[str, Any] = {}
    for name in names:
        values = [fn.__globals__[name] for fn in fns if name in fn.__globals__]
        if not values:
            if hasattr(builtins, name):
                continue
            return None
        if any(v is not values[0] for v in values[1:]):
            return None
        merged[name] = values[0]
    return merged


#: The verifier's own work on each link before the rules: tamper evidence (rule 15).
_TAMPER = """
seq = ln_seq
raw_prev = prev_raw if ln_prev_hash == prev_hash else _unhex(ln_prev_hash)
try:
    expected = _unhexlify(ln_hash)
except (ValueError, TypeError):
    expected = None
try:
    if ln_plain is True and seq != b"0":
        content = _FULL % (FAST_VALUES,)
    else:
        content = _content(ln, identity if seq == b"0" else None)
    ok = expected is not None and raw_prev is not None and _sha256(
        raw_prev + content).digest() == expected
except (TypeError, ValueError, UnicodeDecodeError):
    ok = False
if not ok:
    ok = w.precise_hash_ok(ln_id)
if not ok or ln_prev_hash != prev_hash:
    _add(findings, _link_intact(prev_hash, _Link(ln), ok), seq)
if not sequence_reported and seq != (_SEQ[i] if i < 4096 else str(i).encode()):
    _add(findings, _numbered(i, _Link(ln)), seq)
    sequence_reported = True
prev_hash, prev_raw = ln_hash, expected
"""


def compile_replay(add: Add, tamper: dict[str, Any], *, inline: bool = True
                   ) -> Callable[..., ChainState]:
    """One function replaying a whole chain: for each link, tamper evidence (``tamper``
    gives its helpers), then every link rule in judging order (a rule for some kinds only
    behind a test of the kind, a first-link rule behind ``i == 0``), then
    :func:`~kt1.services.rules.advance`. ``fn(env, links, w, findings, identity)`` returns
    the final :class:`~kt1.services.rules.ChainState`; ``links`` may be plain wire rows.

    ``inline``: the rules' bodies are inlined, the chain's state lives in local variables
    and each link's fields are unpacked once by their declared names; when a rule cannot be
    inlined, or with ``inline=False`` (the reference the tests compare with), each rule is
    called as it is, on a :data:`~kt1.services.rules.facts.Link`.
    """
    from kt1.services.rules.book import LINK_RULES

    every: list[Any] = [*LINK_RULES, advance]
    bodies = [_body(fn, state_locals=True) for fn in every] if inline else []
    namespace = (_globals_for(every, set().union(*(b[1] for b in bodies if b)))
                 if inline and all(bodies) else None)
    # a plain link's canonical bytes: its fields pasted into the template (verify.hashing)
    fast_values = ", ".join(
        f"(_NULL if ln_{f.name} == _N else b'\"' + ln_{f.name} + b'\"')"
        if f.is_text and f.nullable else f"ln_{f.name}" for f in HASHED_FIELDS)
    loop: list[ast.stmt] = [
        ast.parse(f"({', '.join(f'ln_{n}' for n in LINK_NAMES)},) = ln").body[0],
        *ast.parse(_TAMPER.replace("FAST_VALUES", fast_values)).body]
    if namespace is None:  # every rule called as it is
        namespace = {f"_rule{k}": fn for k, fn in enumerate(every)}
        loop += ast.parse("named = _Link(ln)").body
    guards: dict[str, Any] = {}
    for k, fn in enumerate(every):
        if f"_rule{k}" in namespace:
            call = "_rule{k}(st, named)" if fn is advance else (
                "if (_r := _rule{k}(st, named, env, w)) is not None: _add(findings, _r, seq)")
            body = ast.parse(call.format(k=k)).body
        else:
            inlined = bodies[k]
            assert inlined is not None  # noqa: S101  (all inlined, checked above)
            body = inlined[0] if fn is advance else _elim(inlined[0])
        loop += _guarded(fn, k, body, guards)
    if "_rule0" in namespace:
        start = ast.parse("st = _State()").body
        end = ast.parse("return st").body
    else:
        defaults: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(ChainState)}
        namespace["_START"] = defaults
        start = [ast.parse(f"st_{name} = _START[{name!r}]").body[0] for name in defaults]
        end = ast.parse("return _State(" + ", ".join(f"{n}=st_{n}" for n in defaults) + ")"
                        ).body
    head = ast.parse("prev_hash = _GENESIS\nprev_raw = bytes(32)\nsequence_reported = False"
                     ).body
    for_loop = ast.parse("for i, ln in enumerate(links): pass").body[0]
    for_loop.body = loop  # type: ignore[attr-defined]
    fdef = ast.parse("def replay_chain(env, links, w, findings, identity): pass").body[0]
    fdef.body = [*start, *head, for_loop, *end]  # type: ignore[attr-defined]
    module = ast.fix_missing_locations(ast.Module(body=[fdef], type_ignores=[]))
    namespace.update(guards)
    namespace.update(tamper)
    namespace.update(_add=add, _State=ChainState, _Link=Link._make,
                     _unhexlify=binascii.unhexlify, _NULL=JSON_NULL, _N=WIRE_NULL)
    exec(compile(module, "<rulebook replay>", "exec"), namespace)  # noqa: S102
    return namespace["replay_chain"]


def _guarded(fn: Any, k: int, body: list[ast.stmt], guards: dict[str, Any]
             ) -> list[ast.stmt]:
    """``body`` behind the rule's own conditions: its kinds, the first link only."""
    tests = []
    if getattr(fn, "kinds", None) is not None:
        guards[f"_KINDS{k}"] = frozenset(kd.value.encode() for kd in fn.kinds)
        tests.append(f"ln_kind in _KINDS{k}")
    if getattr(fn, "first_only", False):
        tests.append("i == 0")
    if not tests:
        return body
    return [ast.If(test=ast.parse(" and ".join(tests), mode="eval").body, body=body,
                   orelse=[])]
