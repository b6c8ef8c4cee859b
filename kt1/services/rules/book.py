"""The rulebook's machinery: registering rules and judging one event with them.

A *link rule* judges one handoff against the chain's state just before it::

    @link_rule("5", kinds=None)
    def giver_is_holder(st: ChainState, ln: Link, env: EnvelopeFacts, w: World) -> ...

and returns ``None`` when the handoff keeps it, else a :class:`Hit` or a list of them. The
write path calls :func:`judge` on the handoff it is about to write and refuses with the
error of the first hit; the verifier replays each stored chain through :func:`judge` and
:func:`advance` and reports every hit. Rules are judged in the order they are registered,
which is the order the write path refuses in (docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kt1.models.enums import EventKind
from kt1.services.rules.facts import ChainState, Hit, World

LinkRule = Callable[[ChainState, Any, Any, World], Hit | list[Hit] | None]

WRITE_AND_VERIFY = "write and verify"
VERIFY_ONLY = "verify only"
WRITE_ONLY = "write only"

#: Every link rule, in judging order.
LINK_RULES: list[LinkRule] = []
_KINDS = [k.value.encode() for k in EventKind]
_by_kind: dict[tuple[bytes, bool], tuple[LinkRule, ...]] = {}


def link_rule(number: str, *, kinds: frozenset[EventKind] | None = None,
              judged_by: str = WRITE_AND_VERIFY, first_only: bool = False
              ) -> Callable[[LinkRule], LinkRule]:
    """Register a link rule of docs/rules.md rule ``number`` that applies to ``kinds``
    (every kind when None); ``first_only``: it judges only the first link of a chain."""
    def register(fn: LinkRule) -> LinkRule:
        fn.rule_number = number  # type: ignore[attr-defined]
        fn.kinds = kinds  # type: ignore[attr-defined]
        fn.judged_by = judged_by  # type: ignore[attr-defined]
        fn.first_only = first_only  # type: ignore[attr-defined]
        LINK_RULES.append(fn)
        _by_kind.clear()
        return fn
    return register


def rules_for(kind: bytes, first: bool) -> tuple[LinkRule, ...]:
    """The link rules that apply to an event of ``kind`` (an unknown kind: every rule),
    as the ``first`` link of its chain or a later one."""
    found = _by_kind.get((kind, first))
    if found is None:
        found = tuple(fn for fn in LINK_RULES if (
            fn.kinds is None or kind not in _KINDS  # type: ignore[attr-defined]
            or EventKind(kind.decode()) in fn.kinds)  # type: ignore[attr-defined]
            and (first or not fn.first_only))  # type: ignore[attr-defined]
        _by_kind[(kind, first)] = found
    return found


def judge(st: ChainState, ln: Any, env: Any, w: World,
          only: Callable[[LinkRule], bool] | None = None) -> list[Hit]:
    """Every rule ``ln`` breaks, in judging order (``only``: a subset of the rules)."""
    hits: list[Hit] = []
    for fn in rules_for(ln.kind, st.length == 0):
        if only is not None and not only(fn):
            continue
        found = fn(st, ln, env, w)
        if found is not None:
            if isinstance(found, list):
                hits.extend(found)
            else:
                hits.append(found)
    return hits

