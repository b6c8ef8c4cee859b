"""The rulebook compiled for the replay loop: one function per kind of event.

A replay judges millions of links; calling a dozen small rule functions for each costs
more than the rules themselves. So, once at import, the link rules that apply to each kind
(:func:`kt1.services.rules.book.rules_for`) and :func:`kt1.services.rules.advance` are
compiled into one function whose body is theirs, in order: the same source, not a second
copy of the rules. Each rule's ``return X`` becomes "record X, go to the next rule" (what
follows a return moves into the branch that does not return), and
``ln.<field>`` a local variable unpacked once from the link (the names come from
:data:`kt1.services.chain.HANDOFF_FIELDS`).

A rule the compiler cannot inline safely (a loop, a nested function, a name it does not
know) is called as it is. ``tests/services/test_verify.py`` and the differential test judge
the compiled and the plain rules on the same chains.
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
from kt1.services.rules.book import LinkRule, rules_for
from kt1.services.rules.custody import advance
from kt1.services.rules.facts import JSON_NULL, LINK_NAMES, WIRE_NULL, ChainState, Link

STATE_FIELDS = tuple(f.name for f in dataclasses.fields(ChainState))

_PARAMS = ("st", "ln", "env", "w")
#: ``fn(st, ln, env, w, findings, seq)``: judge one link, then advance the state.
Compiled = Callable[[Any, Any, Any, Any, list[Any], bytes], None]
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


def compile_kind(kind: bytes, first: bool, add: Add) -> Compiled:
    """One function judging a link of ``kind`` (the ``first`` of its chain or not) with
    every rule, then advancing the state; ``add(findings, hits, seq)`` records what a rule
    finds."""
    rules: list[LinkRule] = list(rules_for(kind, first))
    statements: list[ast.stmt] = [ast.parse(
        f"({', '.join(f'ln_{n}' for n in LINK_NAMES)},) = ln").body[0]]
    names: set[str] = set()
    called: dict[str, LinkRule] = {}
    for k, fn in enumerate([*rules, advance]):
        inlined = _body(fn)  # type: ignore[arg-type]
        if inlined is None:
            called[f"_rule{k}"] = fn  # type: ignore[assignment]
            statements += ast.parse(
                f"_r = _rule{k}(st, ln, env, w)\nif _r is not None: _add(findings, _r, seq)").body
            continue
        body, used = inlined
        names |= used
        if fn is advance:
            statements += body
            continue
        statements += _elim(body)
    namespace = _globals_for([*rules, advance], names)
    if namespace is None:
        return _plain(rules, add)
    namespace.update(called, _add=add)
    args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in (
        *_PARAMS, "findings", "seq")],
                         kwonlyargs=[], kw_defaults=[], defaults=[])
    fdef = ast.FunctionDef(name=f"judge_{kind.decode(errors='replace')}", args=args,
                           body=statements, decorator_list=[], returns=None)
    module = ast.fix_missing_locations(ast.Module(body=[fdef], type_ignores=[]))
    exec(compile(module, f"<rulebook {kind!r}>", "exec"), namespace)  # noqa: S102
    return namespace[fdef.name]  # type: ignore[no-any-return,unused-ignore]


def _plain(rules: list[LinkRule], add: Add) -> Compiled:
    """The same judgement by calling each rule (when the compiler cannot inline)."""
    def judge(st: Any, ln: Any, env: Any, w: Any, findings: list[Any], seq: bytes) -> None:
        for rule in rules:
            found = rule(st, ln, env, w)
            if found is not None:
                add(findings, found, seq)
        advance(st, ln)
    return judge


def plain(kind: bytes, first: bool, add: Add) -> Compiled:
    """The rules of ``kind`` called one by one (the reference the compiled form matches)."""
    return _plain(list(rules_for(kind, first)), add)


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


def compile_replay(add: Add, tamper: dict[str, Any]) -> Callable[..., ChainState] | None:
    """One function replaying a whole chain: for each link, tamper evidence (``tamper``
    gives its helpers), then every link rule in judging order (a rule for some kinds only
    behind a test of the kind, a first-link rule behind ``i == 0``), then
    :func:`~kt1.services.rules.advance`; the chain's state lives in local variables, and
    each link's fields, unpacked once by their declared names. ``links`` may be plain
    wire rows. ``fn(env, links, w, findings, identity)`` returns the final
    :class:`~kt1.services.rules.ChainState`. None when a rule cannot be inlined."""
    from kt1.services.rules.book import LINK_RULES

    # a plain link's canonical bytes: its fields pasted into the template (verify.hashing)
    fast_values = ", ".join(
        f"(_NULL if ln_{f.name} == _N else b'\"' + ln_{f.name} + b'\"')"
        if f.is_text and f.nullable else f"ln_{f.name}" for f in HASHED_FIELDS)
    loop: list[ast.stmt] = [
        ast.parse(f"({', '.join(f'ln_{n}' for n in LINK_NAMES)},) = ln").body[0],
        *ast.parse(_TAMPER.replace("FAST_VALUES", fast_values)).body]
    names: set[str] = set()
    kinds: dict[str, frozenset[bytes]] = {}
    every: list[Any] = [*LINK_RULES, advance]
    for k, fn in enumerate(every):
        inlined = _body(fn, state_locals=True)
        if inlined is None:
            return None
        body, used = inlined
        names |= used
        body = body if fn is advance else _elim(body)
        guards = []
        if getattr(fn, "kinds", None) is not None:
            kinds[f"_KINDS{k}"] = frozenset(kd.value.encode() for kd in fn.kinds)
            guards.append(f"ln_kind in _KINDS{k}")
        if getattr(fn, "first_only", False):
            guards.append("i == 0")
        if guards:
            test = ast.parse(" and ".join(guards), mode="eval").body
            body = [ast.If(test=test, body=body, orelse=[])]
        loop += body
    namespace = _globals_for(every, names)
    if namespace is None:
        return None
    defaults: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(ChainState)}
    start = [ast.parse(f"st_{name} = _START[{name!r}]").body[0] for name in defaults]
    head = ast.parse("prev_hash = _GENESIS\nprev_raw = bytes(32)\nsequence_reported = False"
                     ).body
    for_loop = ast.For(target=ast.parse("i, ln", mode="eval").body,
                       iter=ast.parse("enumerate(links)", mode="eval").body, body=loop,
                       orelse=[])
    for_loop.target.ctx = ast.Store()  # type: ignore[attr-defined]
    for elt in for_loop.target.elts:  # type: ignore[attr-defined]
        elt.ctx = ast.Store()
    end = ast.parse("return _State(" + ", ".join(f"{n}=st_{n}" for n in defaults) + ")").body
    args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in (
        "env", "links", "w", "findings", "identity")], kwonlyargs=[], kw_defaults=[],
        defaults=[])
    fdef = ast.FunctionDef(name="replay_chain", args=args,
                           body=[*start, *head, for_loop, *end], decorator_list=[],
                           returns=None)
    module = ast.fix_missing_locations(ast.Module(body=[fdef], type_ignores=[]))
    namespace.update(kinds)
    namespace.update(tamper)
    namespace.update(_add=add, _START=defaults, _State=ChainState, _Link=Link._make,
                     _unhexlify=binascii.unhexlify, _NULL=JSON_NULL, _N=WIRE_NULL)
    exec(compile(module, "<rulebook replay>", "exec"), namespace)  # noqa: S102
    return namespace["replay_chain"]
