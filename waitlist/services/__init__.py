"""Use cases: what hosts, guests, timers and owners can do. The only callers of the store."""
