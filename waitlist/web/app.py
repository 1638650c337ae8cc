"""The restaurant waitlist service: a Flask app keeping live waitlists in Redis."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify

from config import Config
from waitlist.mail import parse_smtp_url
from waitlist.services.dev_phone import DevPhone
from waitlist.services.inbound import InboundHandler
from waitlist.services.owner_stats import OwnerStats
from waitlist.services.people import People
from waitlist.services.reservations import Reservations
from waitlist.services.templates import MessageTemplates
from waitlist.services.waitlist import Waitlist
from waitlist.services.webhooks import Webhooks
from waitlist.store import DevOutbox, MessageStore, StatsStore, Store, keys
from waitlist.store.accounts import AccountStore
from waitlist.store.connections import rq_redis, waitlist_redis
from waitlist.store.events import EventFeed
from waitlist.store.reservations import ReservationStore
from waitlist.store.templates import TemplateStore
from waitlist.store.webhooks import WebhookStore
from waitlist.texting.dispatch import Dispatcher, RQDispatcher
from waitlist.web.fanout import Caps, Hub
from waitlist.web.http import MAX_BODY_BYTES, BoundedRequest, FastJSONProvider, register_error_handlers


def create_app(config: Config | None = None, redis: Any = None, rq_connection: Any = None,
               dispatcher: Dispatcher | None = None, clock: Any = None) -> Flask:
    """Build the app. Tests hand in their own Redis, dispatcher and clock; nothing connects here."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.json = FastJSONProvider(app)
    app.request_class = BoundedRequest  # a chunked body over the limit is a 413 too, not cut short
    app.config.update(SECRET_KEY=config.secret_key, MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.config["WAITLIST"] = config
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if config.smtp_url:  # a mistyped SMTP_URL stops the start, not the first password reset hours later
        parse_smtp_url(config.smtp_url)

    redis = redis if redis is not None else waitlist_redis(config.redis_url, config.redis_cluster)
    if dispatcher is None:
        connection = rq_connection if rq_connection is not None else rq_redis(config.rq_redis_url or config.redis_url)
        dispatcher = RQDispatcher(connection, config)
    extra = {"clock": clock} if clock is not None else {}
    app.extensions["redis"] = redis
    release = getattr(redis, "release_thread_connection", None)
    if release is not None:  # no request holds a Redis connection past its end (store/connections.py)
        app.teardown_request(lambda _exc: release())
    app.extensions["dispatcher"] = dispatcher
    waitlist = Waitlist(Store(redis), MessageStore(redis), dispatcher, config, **extra)
    app.extensions["waitlist"] = waitlist  # the services, built once: views call them and nothing else
    app.extensions["inbound"] = inbound = InboundHandler(waitlist)
    app.extensions["owner_stats"] = OwnerStats(waitlist, StatsStore(redis))
    app.extensions["people"] = People(waitlist.store, AccountStore(redis), config, DevOutbox(redis), mail=dispatcher,
                                      **extra)
    app.extensions["templates"] = MessageTemplates(TemplateStore(redis))  # the settings screen's texts
    app.extensions["webhooks"] = Webhooks(WebhookStore(redis), config, **extra)  # outbound webhooks
    app.extensions["reservations"] = Reservations(waitlist, ReservationStore(redis))  # bookings (issue 23)
    app.extensions["dev_phone"] = DevPhone(waitlist, DevOutbox(redis), inbound)  # served in development only
    app.extensions["live_hub"] = Hub(EventFeed(redis), Caps(  # live pages (web/live.py, web/fanout.py)
        config.live_max_streams_per_address, config.live_max_streams_per_restaurant, config.live_max_streams))

    if config.trust_proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trust_proxy_hops,  # type: ignore[method-assign]
                                x_proto=config.trust_proxy_hops, x_host=config.trust_proxy_hops)

    register_error_handlers(app)
    from waitlist.web import api, cli, dev, floor, host, join, limits, metrics, openapi, owner, pages, tables, webhooks

    app.register_blueprint(api.bp)
    app.register_blueprint(tables.bp)  # named tables: the floor, states, next, clear, block
    from waitlist.web import reservations

    app.register_blueprint(reservations.bp)  # reservations and availability under /api/v1
    from waitlist.web import booking

    app.register_blueprint(booking.bp)  # the guests' booking page /book/<slug> and manage page /r/<token>
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(openapi.bp)  # GET /api/v1/openapi.json
    pages.init_app(app)  # sessions, security headers, friendly HTML errors
    app.register_blueprint(host.bp)  # the host stand
    app.register_blueprint(floor.bp)  # the host stand's floor strip and table panels
    from waitlist.web import host_reservations

    app.register_blueprint(host_reservations.bp)  # the host stand's reservations view (issue 23)
    app.register_blueprint(pages.guest_bp)  # the guest's page
    app.register_blueprint(pages.board_bp)  # the lobby screen
    app.register_blueprint(dev.bp)  # the development phone
    app.register_blueprint(join.bp)
    cli.init_app(app)
    app.register_blueprint(owner.api_bp)  # the owner's stats API and visits CSV
    app.register_blueprint(owner.bp)  # the owner's dashboard
    from waitlist.web import accounts, people_api

    app.register_blueprint(accounts.bp)  # people: sign-in, invitations, resets, switcher, people and keys
    app.register_blueprint(people_api.bp)  # people and API keys under /api/v1
    from waitlist.web import integrations, settings

    app.register_blueprint(integrations.bp)  # message templates and webhooks under /api/v1
    app.register_blueprint(settings.bp)  # the managers' settings screen

    @app.get("/healthz")
    def healthz() -> Any:
        """200 when Redis answers; 503 otherwise (the error handler turns Redis errors into 503)."""
        waitlist.ping()
        return jsonify({"status": "ok"})

    limits.init_app(app, config, embedded=_is_embedded(redis), key_prefix=keys.rate_limit_prefix())
    return app


def _is_embedded(redis: Any) -> bool:
    """An in-process store (fakeredis) cannot hold rate-limit counters shared between processes."""
    return type(redis).__module__.startswith("fakeredis")
