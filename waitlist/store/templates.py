"""A restaurant's message templates: the restaurant hash's "templates" field (JSON), changed one text
at a time by one script, so two managers saving different texts at once both keep theirs.

They are read with the restaurant itself (codec.restaurant_from_hash), never on their own: a text
costs no round trip more for its restaurant's wording."""
from __future__ import annotations

import orjson
from redis import Redis

from waitlist.domain.errors import InvalidInput, RestaurantNotFound
from waitlist.store import keys
from waitlist.store.scripts import Scripts

MOST_PER_LANGUAGE = 40
"""More than the texts there are: a bound on what one restaurant's hash carries to every add."""


class TemplateStore:
    def __init__(self, redis: Redis):
        self.redis = redis
        self._run = Scripts(redis)

    def set_template(self, slug: str, language: str, kind: str, body: str) -> str:
        """Store ``body`` (already checked) as text ``kind`` in ``language``; '' restores the built-in
        text. Returns the restaurant's templates as now stored ('' for none)."""
        reply = self._run("set_template", [keys.restaurant_key(slug)],
                          [orjson.dumps({"language": language, "kind": kind, "body": body,
                                         "most": MOST_PER_LANGUAGE})])
        if reply[0] == "not_found":
            raise RestaurantNotFound(f"no restaurant {slug!r}")
        if reply[0] == "too_many":
            raise InvalidInput("too many templates", fields={"kind": ["too many templates"]})
        return str(reply[1])
