"""Message templates' use cases: what the settings screen and the API show, save, reset and preview.
The rules (placeholders, required parts, encodings, carrier warnings) are waitlist.texting.templates'."""
from __future__ import annotations

from typing import Any

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import Restaurant
from waitlist.store.templates import TemplateStore
from waitlist.texting import templates
from waitlist.texting.templates import Preview, TemplateError


class MessageTemplates:
    def __init__(self, store: TemplateStore):
        self.store = store

    def overview(self, restaurant: Restaurant, language: str) -> list[dict[str, Any]]:
        """Every text that can be reworded in ``language``: its label, placeholders, the built-in wording
        (as a template) and the restaurant's own, if any."""
        own = templates.load(restaurant.templates).raw.get(language, {})
        return [{"kind": kind, "label": templates.LABELS[kind], "language": language,
                 "placeholders": [p for p in templates.PLACEHOLDERS if p in fields],
                 "required": list(templates.REQUIRED.get(kind, ())),
                 "builtin": templates.builtin_template(kind, language), "custom": own.get(kind)}
                for kind, fields in templates.FIELDS.items()]

    def save(self, restaurant: Restaurant, language: str, kind: str, body: str) -> Preview:
        """Store the restaurant's wording of ``kind`` (refused with the reason if it breaks a rule);
        the next text of that kind uses it."""
        found = self.preview(restaurant, language, kind, body)
        self.store.set_template(restaurant.slug, language, kind, body)
        return found

    def reset(self, restaurant: Restaurant, language: str, kind: str) -> None:
        """Back to the built-in wording."""
        self._check(language, kind)
        self.store.set_template(restaurant.slug, language, kind, "")

    def preview(self, restaurant: Restaurant, language: str, kind: str, body: str) -> Preview:
        self._check(language, kind)
        try:
            return templates.preview(kind, language, body, restaurant.name)
        except TemplateError as exc:
            raise InvalidInput(str(exc), fields={"body": [str(exc)]}) from None

    @staticmethod
    def _check(language: str, kind: str) -> None:
        if language not in templates.LANGUAGES:
            raise InvalidInput("no such language", fields={"language": ["en or zh"]})
        if kind not in templates.FIELDS:
            raise InvalidInput("no such text", fields={"kind": ["not one of the texts that can be reworded"]})
