"""The Merkle tree of archive.store.merkle against RFC 9162's definitions, written out
naively here: the tree hash, inclusion and consistency proofs, and proofs that must fail."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.store import merkle


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1, as written there (leaves: the entries, not their hashes)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1."""
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """RFC 9162 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def entries(n: int) -> list[bytes]:
    return [
        merkle.entry_bytes("capture", i, hashlib.sha256(str(i).encode()).hexdigest())
        for i in range(n)
    ]


def stored(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """The nodes the writer keeps, by appending the leaves one by one."""
    frontier = merkle.Frontier()
    nodes = {}
    for leaf in leaves:
        for level, position, value in frontier.append(merkle.leaf_hash(leaf)):
            nodes[level, position] = value
    return nodes


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 100])
def test_root_matches_the_rfc(n):
    leaves = entries(n)
    assert merkle.root_of(merkle.leaf_hash(leaf) for leaf in leaves) == mth(leaves)
    if n:
        assert merkle.root_from_nodes(n, stored(leaves)) == mth(leaves)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=70), st.data())
def test_inclusion_proofs_match_the_rfc_and_verify(n, data):
    leaves = entries(n)
    nodes = stored(leaves)
    root = mth(leaves)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = merkle.inclusion_proof(m, n, lambda level, position: nodes[level, position])
    assert proof == path(m, leaves)
    leaf = merkle.leaf_hash(leaves[m])
    assert merkle.verify_inclusion(leaf, m, n, proof, root)
    # The wrong leaf, the wrong place, a wrong hash in the path or a root of another tree.
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"other"), m, n, proof, root)
    if n > 1:
        assert not merkle.verify_inclusion(leaf, (m + 1) % n, n, proof, root)
        broken = list(proof)
        broken[0] = bytes(32)
        assert not merkle.verify_inclusion(leaf, m, n, broken, root)
        assert not merkle.verify_inclusion(leaf, m, n, proof[:-1], root)
    assert not merkle.verify_inclusion(leaf, m, n, proof, mth(leaves[:-1] + [b"x"]))


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=2, max_value=70), st.data())
def test_consistency_proofs_match_the_rfc_and_verify(n, data):
    leaves = entries(n)
    nodes = stored(leaves)
    first = data.draw(st.integers(min_value=1, max_value=n - 1))
    ranges = merkle.consistency_ranges(first, n)
    proof = merkle.proof_hashes(ranges, nodes)
    assert proof == subproof(first, leaves, True)
    old, new = mth(leaves[:first]), mth(leaves)
    assert merkle.verify_consistency(first, n, old, new, proof)
    # A history changed before `first`: the old root no longer follows.
    rewritten = list(leaves)
    rewritten[data.draw(st.integers(min_value=0, max_value=first - 1))] = b"rewritten"
    assert not merkle.verify_consistency(first, n, old, mth(rewritten), proof)
    rewritten_nodes = stored(rewritten)
    assert not merkle.verify_consistency(
        first, n, old, mth(rewritten), merkle.proof_hashes(ranges, rewritten_nodes)
    )


def test_consistency_of_equal_and_empty_trees():
    leaves = entries(5)
    root = mth(leaves)
    assert merkle.verify_consistency(5, 5, root, root, [])
    assert not merkle.verify_consistency(5, 5, root, mth(leaves[:4]), [])
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, root, [])
    assert not merkle.verify_consistency(3, 5, mth(leaves[:3]), root, [])
