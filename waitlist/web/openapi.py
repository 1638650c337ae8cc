"""The API's OpenAPI 3.1 description (waitlist/openapi.yaml), served as JSON at /api/v1/openapi.json.

The YAML file is the one source: it is read once per process, on the first request that asks for it.
"""
from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml  # type: ignore[import-untyped]
from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")


@cache
def description() -> dict[str, Any]:
    text = resources.files("waitlist.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)  # type: ignore[no-any-return]


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """Public and cacheable: the description holds no data of any restaurant."""
    response = jsonify(description())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
