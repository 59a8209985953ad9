"""Proof that nothing was altered: verify, and WACZ packages for others' tools."""
