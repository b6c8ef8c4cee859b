"""RFC 6962 Merkle trees and consistency proofs, against the published test vectors."""

from __future__ import annotations

import hashlib
import random

import pytest

from kt1.services.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    consistency_ranges,
    digest_log,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
)

# Certificate Transparency's reference data (RFC 6962 section 2.1, merkle_tree_test / the Go
# verifier's tests): eight leaves, the root of every prefix, and three consistency proofs.
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
PROOFS = {
    (1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}
LEAF_HASHES = [leaf_hash(d) for d in LEAVES]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962's recursive definition, as written, for comparison."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def test_the_root_of_every_prefix_matches_the_published_vectors() -> None:
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    for n in range(1, 9):
        assert root_of(LEAVES[:n]) == ROOTS[n - 1]
        assert digest_log(iter(LEAF_HASHES[:n]), n).root == ROOTS[n - 1]


@pytest.mark.parametrize(("m", "n"), sorted(PROOFS))
def test_consistency_proofs_match_the_published_vectors(m: int, n: int) -> None:
    proof = consistency_proof(LEAF_HASHES[:n], m)
    assert [p.hex() for p in proof] == PROOFS[(m, n)]
    assert verify_consistency(m, n, ROOTS[m - 1], ROOTS[n - 1], proof)


def test_proofs_from_the_streaming_pass_equal_the_recursive_definition_for_all_sizes() -> None:
    rng = random.Random(6962)
    data = [rng.randbytes(rng.randrange(0, 40)) for _ in range(70)]
    hashes = [leaf_hash(d) for d in data]
    for n in range(0, 70):
        for m in range(0, n + 1):
            digest = digest_log(iter(hashes[:n]), n, m)
            assert digest.root == mth(data[:n])
            assert digest.prefix_root == mth(data[:m])
            assert digest.proof == (subproof(m, data[:n], True) if 0 < m < n else [])
            assert verify_consistency(m, n, digest.prefix_root, digest.root, digest.proof)


def test_the_proof_ranges_are_disjoint_subtrees() -> None:
    for n in range(2, 100):
        for m in range(1, n):
            ranges = consistency_ranges(m, n)
            covered = [i for a, b in ranges for i in range(a, b)]
            assert len(covered) == len(set(covered))


def test_a_changed_leaf_in_the_old_log_fails_the_proof() -> None:
    hashes = LEAF_HASHES[:]
    for i in range(6):
        tampered = [*hashes[:i], leaf_hash(b"tampered"), *hashes[i + 1:]]
        proof = consistency_proof(tampered[:8], 6)
        assert not verify_consistency(6, 8, ROOTS[5], root_of_hashes(tampered[:8]), proof)


def root_of_hashes(hashes: list[bytes]) -> bytes:
    return digest_log(iter(hashes), len(hashes)).root


@pytest.mark.parametrize("change", [
    "first-1", "first+1", "second*2", "second/2", "wrong root1", "wrong root2", "swapped roots",
    "empty proof", "trailing garbage", "preceding root1", "truncated", "flipped bit",
])
def test_corrupted_proofs_are_rejected(change: str) -> None:
    for (m, n), hexes in PROOFS.items():
        proof = [bytes.fromhex(h) for h in hexes]
        first, second, r1, r2 = m, n, ROOTS[m - 1], ROOTS[n - 1]
        if change == "first-1":
            first -= 1
        elif change == "first+1":
            first += 1
        elif change == "second*2":
            second *= 2
        elif change == "second/2":
            second //= 2
        elif change == "wrong root1":
            r1 = hashlib.sha256(b"x").digest()
        elif change == "wrong root2":
            r2 = hashlib.sha256(b"x").digest()
        elif change == "swapped roots":
            r1, r2 = r2, r1
        elif change == "empty proof":
            proof = []
        elif change == "trailing garbage":
            proof = [*proof, b""]
        elif change == "preceding root1":
            proof = [r1, *proof]
        elif change == "truncated":
            proof = proof[:-1]
        elif change == "flipped bit":
            proof = [bytes([proof[0][0] ^ 16]) + proof[0][1:], *proof[1:]]
        assert not verify_consistency(first, second, r1, r2, proof), (m, n)


def test_trivial_cases() -> None:
    assert verify_consistency(0, 5, b"anything", ROOTS[4], [])
    assert verify_consistency(3, 3, ROOTS[2], ROOTS[2], [])
    assert not verify_consistency(3, 3, ROOTS[2], ROOTS[3], [])
    assert not verify_consistency(4, 3, ROOTS[3], ROOTS[2], [])
    with pytest.raises(ValueError):
        digest_log(iter(LEAF_HASHES[:3]), 4)
    with pytest.raises(ValueError):
        digest_log(iter(LEAF_HASHES[:5]), 4)
