"""RFC 6962 Merkle trees over the custody log, computed in one streaming pass.

``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left || right)``, and the tree
of ``n`` leaves splits at the largest power of two below ``n`` (RFC 6962 §2.1). Memory is
O(log n): leaves are folded into a stack of complete subtrees as they stream past, so a
tree over millions of handoffs never holds more than a few dozen hashes.

Consistency proofs (RFC 6962 §2.1.2) show that the tree of the first ``m`` leaves is a
prefix of the tree of ``n`` leaves; :func:`verify_consistency` is RFC 9162 §2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice, pairwise

_sha256 = hashlib.sha256
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = _sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


@dataclass
class TreeBuilder:
    """Folds leaf hashes, in order, into the root of the tree over all of them."""

    size: int = 0
    stack: list[bytes] = field(default_factory=list)

    def add_leaf_hash(self, h: bytes) -> None:
        n = self.size
        stack = self.stack
        while n & 1:
            h = _sha256(NODE_PREFIX + stack.pop() + h).digest()
            n >>= 1
        stack.append(h)
        self.size += 1

    def add(self, data: bytes) -> None:
        self.add_leaf_hash(_sha256(LEAF_PREFIX + data).digest())

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        h = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            h = _sha256(NODE_PREFIX + left + h).digest()
        return h


def root_of(leaves: Iterable[bytes]) -> bytes:
    """Root of the tree over raw leaf data (convenience for small inputs and tests)."""
    tree = TreeBuilder()
    for data in leaves:
        tree.add(data)
    return tree.root()


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """The leaf ranges ``[start, end)`` whose subtree hashes form PROOF(m, D[n]), in order."""
    if not 0 <= m <= n:
        raise ValueError("need 0 <= m <= n")
    if m == 0 or m == n:
        return []
    out: list[tuple[int, int]] = []

    def sub(m: int, start: int, end: int, complete: bool) -> None:
        size = end - start
        if m == size:
            if not complete:
                out.append((start, end))
            return
        k = _largest_power_of_two_below(size)
        if m <= k:
            sub(m, start, start + k, complete)
            out.append((start + k, end))
        else:
            sub(m - k, start + k, end, False)
            out.append((start, start + k))

    sub(m, 0, n, True)
    return out


@dataclass
class LogDigest:
    """What one pass over a log of ``size`` leaves yields."""

    size: int
    root: bytes
    prefix_root: bytes | None = None  # root of the first ``prefix`` leaves, if asked
    proof: list[bytes] = field(default_factory=list)  # PROOF(prefix, D[size]), if asked


def digest_log(leaf_hashes: Iterable[bytes], size: int, prefix: int | None = None) -> LogDigest:
    """Root of ``size`` leaf hashes, plus the root and consistency proof of a prefix.

    ``size`` must be known in advance (the proof's shape depends on it); a stream that ends
    early or runs long raises ``ValueError``.
    """
    if prefix is not None and not 0 <= prefix <= size:
        raise ValueError("the prefix is longer than the log")
    ranges = consistency_ranges(prefix, size) if prefix is not None else []
    builders = {r: TreeBuilder() for r in ranges}
    # Cut the leaves into segments at every range boundary and at the prefix, so that the
    # inner loop does no bookkeeping: each segment feeds the whole tree and at most one
    # proof subtree (the ranges are disjoint).
    points = {0, size, *(a for r in ranges for a in r)}
    if prefix is not None:
        points.add(prefix)
    cuts = sorted(points)
    tree = TreeBuilder()
    add = tree.add_leaf_hash
    prefix_root: bytes | None = None
    it = iter(leaf_hashes)
    for a, b in pairwise(cuts):
        if a == prefix:
            prefix_root = tree.root()
        builder = next((builders[r] for r in ranges if r[0] <= a < r[1]), None)
        before = tree.size
        if builder is None:
            for h in islice(it, b - a):
                add(h)
        else:
            badd = builder.add_leaf_hash
            for h in islice(it, b - a):
                add(h)
                badd(h)
        if tree.size - before != b - a:
            raise ValueError("the log has fewer leaves than announced")
    if next(it, None) is not None:
        raise ValueError("the log has more leaves than announced")
    if prefix is not None and prefix == size:
        prefix_root = tree.root()
    return LogDigest(size=size, root=tree.root(), prefix_root=prefix_root,
                     proof=[builders[r].root() for r in ranges])


def consistency_proof(leaf_hashes: Sequence[bytes], m: int) -> list[bytes]:
    """PROOF(m, D[n]) over an in-memory list of leaf hashes (small logs and tests)."""
    return digest_log(iter(leaf_hashes), len(leaf_hashes), m).proof


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``first`` leaves a prefix of that of ``second``?"""
    if first < 0 or second < first:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the path
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
