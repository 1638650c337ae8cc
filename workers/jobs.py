"""RQ job functions. Each takes ids, re-reads state, and returns quietly when the work no longer
applies; transient errors raise so RQ records and retries them."""
from __future__ import annotations

import logging
import time
from typing import Any

from waitlist import mail
from waitlist.domain.phones import mask_phone, phone_digest
from waitlist.services.reservations import Reservations
from waitlist.store.reservations import ReservationStore
from waitlist.texting.sms import (
    OPT_OUT_CODE,
    AmbiguousSendError,
    PermanentSendError,
    TransientSendError,
)
from workers.context import current

log = logging.getLogger(__name__)

VALIDITY_SECONDS = {"table_ready": 600, "almost_ready": 900}
"""Twilio drops these if it cannot deliver them in time: a late table-ready text only misleads."""


def send_text(slug: str, message_id: str) -> str:
    """Send one recorded message exactly once: claim it, send it, remember Twilio's SID."""
    ctx = current()
    messages, config = ctx.messages, ctx.waitlist.config
    message = messages.get(slug, message_id)
    if message is None:
        return "missing"
    digest = phone_digest(config.secret_key, message["to"])
    claim = messages.claim(slug, message_id, now=time.time(), recipient_digest=digest)
    if claim == "opted_out":
        _flag(slug, message.get("party", ""), "opted_out")
        return claim
    if claim not in ("claimed", "ambiguous"):
        return claim
    if claim == "ambiguous":
        sid = ctx.sender.find_sent(to=message["to"], from_=message["from"], body=message["body"],
                                   since=float(message["created_at"]))
        if sid:
            messages.record_sid(slug, message_id, sid, "sent", now=time.time())
            log.info("sms found already sent msg=%s sid=%s", message_id, sid)
            return "found"
    try:
        sent = ctx.sender.send(
            to=message["to"], from_=message["from"], body=message["body"],
            status_callback=f"{config.public_base_url}/sms/status" if config.twilio_configured else None,
            validity_period=VALIDITY_SECONDS.get(message.get("kind", "")),
        )
    except PermanentSendError as exc:
        _fail(slug, message, exc.code)
        return "failed"
    except TransientSendError as exc:
        messages.release_claim(slug, message_id, str(exc), now=time.time())
        raise
    except AmbiguousSendError as exc:
        messages.note_error(slug, message_id, str(exc), now=time.time())
        raise
    messages.record_sid(slug, message_id, sent.sid, sent.status, now=time.time())
    if message.get("party"):  # a sender that answers "sent" or "delivered" at once clears an older error
        ctx.waitlist.note_text_outcome(slug, message["party"], message.get("created_at", ""), sent.status)
    return "sent"


def _fail(slug: str, message: dict[str, str], code: str) -> None:
    ctx = current()
    ctx.messages.advance(slug, message["id"], "failed", now=time.time(), error_code=code)
    log.warning("sms failed msg=%s to=%s code=%s", message["id"], mask_phone(message["to"]), code)
    if message.get("party"):
        ctx.waitlist.note_text_outcome(slug, message["party"], message.get("created_at", ""), "failed")
    if code == str(OPT_OUT_CODE):
        ctx.messages.opt_out(slug, phone_digest(ctx.waitlist.config.secret_key, message["to"]))
        _flag(slug, message.get("party", ""), "opted_out")


def _flag(slug: str, party_id: str, flag: str) -> None:
    if party_id:
        current().waitlist.store.update_party(slug, party_id, {f"f:{flag}": "1"}, now=time.time(),
                                              actor="worker", event="flag")


def send_text_failed(job: Any, connection: Any, exc_type: Any, exc_value: Any, tb: Any) -> None:
    """RQ calls this after every failed try; only the last one marks the message failed for good."""
    if job.retries_left:
        return
    slug, message_id = job.args[0], job.args[1]
    message = current().messages.get(slug, message_id)
    if message is not None and not message.get("sid"):
        _fail(slug, message, "retries_exhausted")


def expire_hold(slug: str, party_id: str, hold_version: str) -> bool:
    """The table was held long enough: release it unless the party was seated, left or re-notified."""
    return current().waitlist.expire_hold(slug, party_id, hold_version)


def request_feedback(slug: str, party_id: str) -> bool:
    """Some time after seating: ask how the visit was, once, if the restaurant wants feedback."""
    return current().waitlist.request_feedback(slug, party_id)


def expire_pending(slug: str, party_id: str) -> bool:
    """Five minutes after a remote join: drop it quietly unless the guest confirmed it."""
    return current().waitlist.expire_pending(slug, party_id)


def reservation_timer(slug: str, reservation_id: str, kind: str, version: str) -> str:
    """A reservation's reminder or grace text, once, unless the booking changed or ended since."""
    waitlist = current().waitlist
    return Reservations(waitlist, ReservationStore(waitlist.store.redis)).fire_timer(slug, reservation_id, kind,
                                                                                    version)


# --- periodic jobs: stats fold and retention sweep ---------------------------------------------------
# Each periodic job schedules its next run before doing its work, under a job id naming the time slot
# ("periodic-fold_stats-<slot>"): two workers scheduling the same slot write the same job, so it runs
# once, and a run that raises has already booked the next one. ``schedule_periodic`` starts the chain
# when a worker starts (RQ's scheduler, ``--with-scheduler``, moves due jobs onto the queue).

PERIODIC_SECONDS = {"fold_stats": 300, "retention_sweep": 3600}
PERIODIC_QUEUE = "timers"


def fold_stats() -> int:
    """Fold every restaurant's new events into its daily stats before the stream is trimmed."""
    return current().owner_stats.fold_all()


def retention_sweep() -> int:
    """Erase names, numbers and texts older than each restaurant's retention_days (counters stay)."""
    return current().owner_stats.sweep_all()


def schedule_periodic(connection: Any, now: float | None = None, names: Any = None) -> list[str]:
    """Book the next run of each periodic job (idempotent: the job id is the run's time slot)."""
    from datetime import UTC, datetime

    from rq import Queue

    queue = Queue(PERIODIC_QUEUE, connection=connection)
    now = time.time() if now is None else now
    booked = []
    for name in names or PERIODIC_SECONDS:
        every = PERIODIC_SECONDS[name]
        slot = int(now // every) + 1
        job_id = f"periodic-{name}-{slot}"
        queue.enqueue_at(datetime.fromtimestamp(slot * every, tz=UTC), "workers.jobs.run_periodic", name,
                         job_id=job_id, result_ttl=every, failure_ttl=7 * 24 * 3600, job_timeout=every)
        booked.append(job_id)
    return booked


def run_periodic(name: str) -> Any:
    """Book the next run, then do this one."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        schedule_periodic(job.connection, names=[name])
    return {"fold_stats": fold_stats, "retention_sweep": retention_sweep}[name]()


def send_mail(to: str, subject: str, body: str) -> str:
    """Mail one link (an invitation, a password reset) through the configured SMTP server. A server
    away or busy raises, so RQ tries again (``dispatch.MAIL_RETRY_SECONDS``); a refusal is final."""
    config = current().waitlist.config
    if not config.smtp_url:
        log.warning("mail not sent to=%s: SMTP_URL is not set", mail.mask_email(to))
        return "not_configured"
    try:
        mail.send(config.smtp_url, mail.message(config.mail_sender, to, subject, body))
    except mail.MailError as exc:
        log.error("mail refused to=%s: %s", mail.mask_email(to), exc)
        return "failed"
    log.info("mail sent to=%s subject=%s", mail.mask_email(to), subject)
    return "sent"
