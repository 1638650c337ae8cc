-- What the estimator reads, in one round trip. Reading writes only the line key, when it is missing.
-- KEYS[1..12] as includes/snapshot.lua's read_snapshot (KEYS[1] line, KEYS[2] sizes hash, ...)
-- -> read_snapshot's reply
--- @include "snapshot"
return read_snapshot()
