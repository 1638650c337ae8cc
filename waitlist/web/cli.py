"""Command-line administration: `flask --app wsgi restaurant ...`."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import AppGroup

from waitlist.domain.errors import WaitlistError
from waitlist.web import schemas
from waitlist.web.http import get_waitlist

restaurant_cli = AppGroup("restaurant", help="Create restaurants and manage their staff keys.")


def _fail(exc: WaitlistError) -> None:
    click.echo(json.dumps({"error": {"code": exc.code, "message": exc.message,
                                     **({"fields": exc.fields} if exc.fields else {})}}), err=True)
    sys.exit(1)


@restaurant_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--sms-from", "sms_from", required=True, help="E.164 number the restaurant texts from")
@click.option("--timezone", default="UTC", show_default=True)
@click.option("--language", default="en", show_default=True, type=click.Choice(["en", "zh"]))
def create(slug: str, name: str, sms_from: str, timezone: str, language: str) -> None:
    """Create a restaurant and print it with its API key (shown only once)."""
    try:
        data = schemas.load(schemas.RestaurantCreateSchema(), {
            "slug": slug, "name": name, "sms_from": sms_from, "timezone": timezone, "language": language})
        restaurant, api_key = get_waitlist().create_restaurant(**data)
    except WaitlistError as exc:
        _fail(exc)
        return
    click.echo(json.dumps({**restaurant.to_dict(), "api_key": api_key}, indent=2))


@restaurant_cli.command("rotate-key")
@click.argument("slug")
def rotate_key(slug: str) -> None:
    """Issue a new API key for SLUG; the old one stops working at once."""
    try:
        api_key = get_waitlist().rotate_key(slug)
    except WaitlistError as exc:
        _fail(exc)
        return
    click.echo(json.dumps({"slug": slug, "api_key": api_key}, indent=2))


class EstimateCommands(click.Group):
    """`flask estimate ...`, loaded when run: the backtest replays on an in-process fakeredis, which a
    web process has no reason to import (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["backtest"]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from waitlist.services.backtest import estimate_cli

        return estimate_cli.get_command(ctx, cmd_name)


def init_app(app: Flask) -> None:
    app.cli.add_command(restaurant_cli)
    app.cli.add_command(EstimateCommands("estimate", help="Check wait quotes against a restaurant's history."))
