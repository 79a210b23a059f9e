"""Access checks before any lookup: the ID in the path, signed links, revocation, per-client limits."""
