"""The ledger as a Merkle tree (RFC 9162, section 2.1): leaf and node hashes, the compact
frontier an append needs, inclusion and consistency proofs and their verification.

Pure functions of hashes and sizes: the writer keeps the tree's nodes in `ledger_nodes`
(archive.store.ledger_tree), `verify` rebuilds the tree from the entries, and a package's
checker, holding no archive at all, needs only `verify_inclusion` and `verify_consistency`.

A node is named by its level and position: the perfect subtree of 2**level leaves starting
at leaf position * 2**level. Every range a proof names is a run of such subtrees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The hash of the tree of no entries."""

NodeKey = tuple[int, int]
"""(level, position) of a perfect subtree."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def entry_bytes(kind: str, ref_id: int, digest: str) -> bytes:
    """A ledger entry as the tree's leaf holds it: what the entry says of which row."""
    return f"{kind} {ref_id} {digest}".encode("ascii")


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_blocks(start: int, end: int) -> list[NodeKey]:
    """The perfect subtrees that make up the range [start, end), largest first, for a range
    that starts where a subtree of its largest block may (every range RFC 9162 names)."""
    blocks = []
    while start < end:
        size = 1 << ((end - start).bit_length() - 1)
        while start % size:
            size >>= 1
        level = size.bit_length() - 1
        blocks.append((level, start >> level))
        start += size
    return blocks


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from the hashes of its perfect blocks, largest first: RFC 9162's
    split puts the largest power of two on the left, so the blocks join right to left."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for block in reversed(hashes[:-1]):
        result = node_hash(block, result)
    return result


def frontier_keys(size: int) -> list[NodeKey]:
    """The nodes an append to a tree of `size` leaves starts from: its perfect blocks."""
    return perfect_blocks(0, size)


class Frontier:
    """A tree kept as its perfect blocks (at most log2(size) hashes): append a leaf, read
    the root at any size. What the writer holds while it appends, and what `verify` folds
    the entries into."""

    def __init__(self, size: int = 0, blocks: Sequence[tuple[int, bytes]] = ()):
        self.size = size
        self.blocks: list[tuple[int, bytes]] = list(blocks)
        """(level, hash) of each perfect block, largest first."""

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; the nodes it completes, (level, position, hash), the leaf first."""
        position = self.size
        made = [(0, position, leaf)]
        level, current = 0, leaf
        blocks = self.blocks
        while blocks and blocks[-1][0] == level:
            _, left = blocks.pop()
            current = node_hash(left, current)
            level += 1
            position >>= 1
            made.append((level, position, current))
        blocks.append((level, current))
        self.size += 1
        return made

    def append_leaf_only(self, leaf: bytes) -> None:
        """`append` without the list of nodes made (verify needs only the root)."""
        level, current = 0, leaf
        blocks = self.blocks
        while blocks and blocks[-1][0] == level:
            current = node_hash(blocks.pop()[1], current)
            level += 1
        blocks.append((level, current))
        self.size += 1

    def root(self) -> bytes:
        return fold([block for _, block in self.blocks])


def root_of(leaves: Iterable[bytes]) -> bytes:
    frontier = Frontier()
    for leaf in leaves:
        frontier.append_leaf_only(leaf)
    return frontier.root()


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make up the inclusion proof of leaf `index` in a tree of
    `size` leaves (RFC 9162 2.1.3.1), in the proof's order: nearest the leaf first."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make up the consistency proof between a tree of `first`
    leaves and one of `second` (RFC 9162 2.1.4.1), in the proof's order."""
    if first <= 0 or first >= second:
        return []
    ranges: list[tuple[int, int]] = []
    start, end, whole = 0, second, True
    m = first
    while True:
        if m == end - start:
            if not whole:
                ranges.append((start, end))
            break
        k = _largest_power_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            whole = False
    ranges.reverse()
    return ranges


def nodes_needed(ranges: Iterable[tuple[int, int]]) -> set[NodeKey]:
    needed: set[NodeKey] = set()
    for start, end in ranges:
        needed.update(perfect_blocks(start, end))
    return needed


def proof_hashes(ranges: Sequence[tuple[int, int]], nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    """The proof's hashes from the stored nodes (KeyError: a node is missing)."""
    return [fold([nodes[key] for key in perfect_blocks(start, end)]) for start, end in ranges]


def inclusion_proof(index: int, size: int, node: Callable[[int, int], bytes]) -> list[bytes]:
    """Leaf `index`'s audit path in the tree of `size` leaves, reading nodes one at a time."""
    ranges = inclusion_ranges(index, size)
    return proof_hashes(ranges, {key: node(*key) for key in nodes_needed(ranges)})


def root_from_nodes(size: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    return fold([nodes[key] for key in frontier_keys(size)])


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does `path` prove the leaf hash `leaf` at `index` in `root`?"""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: does `path` prove the tree of `second` leaves extends that of
    `first` (its first `first` leaves unchanged)?"""
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path and first_root == EMPTY_ROOT
    if first > second or not path:
        return False
    hashes = list(path)
    if first & (first - 1) == 0:  # an exact power of two: its own root starts the path
        hashes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = hashes[0]
    for c in hashes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
