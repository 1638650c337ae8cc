"""The owner's view over fakeredis: stats API, visits CSV, dashboard, retention, forget, periodic jobs."""
from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, timedelta
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq.registry import ScheduledJobRegistry

from tests.conftest import add_party, auth, create_restaurant, guest_token
from tests.fakes import Clock
from waitlist.domain import stats
from waitlist.services import owner_stats
from waitlist.store import (
    StatsStore,
    events_key,
    message_prefix,
    stats_cursor_key,
    token_key,
    visits_key,
)
from workers import jobs

SLUG = "noodle-bar"


@pytest.fixture
def clock() -> Clock:
    """Noon of the real current service day (the test restaurant keeps UTC).

    Visit records expire by Redis's own clock, which a test cannot move, so the clock stays on today's
    service day; noon keeps an evening of events and a few clock moves clear of the 04:00 boundary
    between service days (a run at 03:45 once put the last event on the next day)."""
    now = time.time()
    day_start = now - (now - stats.SERVICE_DAY_STARTS_HOUR * 3600) % 86400
    return Clock(day_start + 8 * 3600)


def owner(app: Flask) -> owner_stats.OwnerStats:
    waitlist = app.extensions["waitlist"]
    return owner_stats.OwnerStats(waitlist, StatsStore(waitlist.store.redis))


def act(client: FlaskClient, headers: dict[str, str], party: dict[str, Any], action: str) -> None:
    response = client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/{action}", headers=headers)
    assert response.status_code == 200, response.get_json()


def an_evening(client: FlaskClient, headers: dict[str, str], clock: Clock) -> list[dict[str, Any]]:
    """Four parties: one seated after 20 minutes, one cancelled, one no-show, one still waiting."""
    parties = [add_party(client, headers, name=f"Guest {n}", party_size=n + 1) for n in range(4)]
    clock.advance(20 * 60)
    act(client, headers, parties[0], "seat")
    act(client, headers, parties[1], "cancel")
    act(client, headers, parties[2], "notify")
    act(client, headers, parties[2], "no-show")
    return parties


def stats_of(client: FlaskClient, headers: dict[str, str], **query: str) -> Any:
    response = client.get(f"/api/v1/restaurants/{SLUG}/stats", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def sign_in(client: FlaskClient, api_key: str) -> None:
    client.get(f"/owner/{SLUG}/signin")
    with client.session_transaction() as session:
        token = session["csrf"]
    response = client.post(f"/owner/{SLUG}/signin", data={"api_key": api_key, "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/owner/{SLUG}")


# --- the stats API ---------------------------------------------------------------------------------------

def test_stats_count_the_evening_from_the_event_stream(client: FlaskClient, headers: dict[str, str],
                                                       clock: Clock) -> None:
    an_evening(client, headers, clock)
    total = stats_of(client, headers)["total"]
    assert {k: total["parties"][k] for k in ("joined", "seated", "covers", "cancelled", "no_shows", "walk_aways")} == \
        {"joined": 4, "seated": 1, "covers": 1, "cancelled": 1, "no_shows": 1, "walk_aways": 2}
    assert total["wait"]["overall"] == {"n": 1, "mean": 20.0, "median": 20.5, "p90": 20.5}


def test_stats_answer_every_day_of_the_range_and_the_total(client: FlaskClient, headers: dict[str, str],
                                                           clock: Clock) -> None:
    an_evening(client, headers, clock)
    today = owner(client.application).today(client.application.extensions["waitlist"].restaurant(SLUG))
    first = (date.fromisoformat(today) - timedelta(days=300)).isoformat()  # the tests run on today's date
    body = stats_of(client, headers, **{"from": first, "to": today})
    assert body["from"] == first and body["to"] == today and body["timezone"] == "UTC"
    assert body["days"][-1]["date"] == today and body["days"][-1]["parties"]["joined"] == 4
    assert sum(d["parties"]["joined"] for d in body["days"]) == body["total"]["parties"]["joined"] == 4


def test_the_default_range_is_the_last_two_weeks(client: FlaskClient, headers: dict[str, str]) -> None:
    assert len(stats_of(client, headers)["days"]) == owner_stats.DEFAULT_RANGE_DAYS


@pytest.mark.parametrize("query", [
    {"from": "yesterday"}, {"from": "2026-02-30"}, {"from": "2026-03-02", "to": "2026-03-01"},
    {"from": "2024-01-01", "to": "2026-01-01"},
])
def test_bad_date_ranges_are_refused(client: FlaskClient, headers: dict[str, str], query: dict[str, str]) -> None:
    response = client.get(f"/api/v1/restaurants/{SLUG}/stats", query_string=query, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("path", ["stats", "visits.csv"])
def test_stats_and_visits_need_the_staff_key(client: FlaskClient, restaurant: dict[str, Any], path: str) -> None:
    assert client.get(f"/api/v1/restaurants/{SLUG}/{path}").status_code == 401
    other = create_restaurant(client, slug="other-bar", sms_from="+14155550199")
    assert client.get(f"/api/v1/restaurants/{SLUG}/{path}", headers=auth(other["api_key"])).status_code == 403


def test_an_undone_seat_is_not_counted(client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    party = add_party(client, headers)
    act(client, headers, party, "seat")
    stats_of(client, headers)  # folded while seated
    app = client.application
    app.extensions["waitlist"].undo(app.extensions["waitlist"].restaurant(SLUG), party["id"])
    parties = stats_of(client, headers)["total"]["parties"]
    assert (parties["joined"], parties["seated"]) == (1, 0)


def test_texts_and_replies_are_counted(client: FlaskClient, headers: dict[str, str], app: Flask) -> None:
    party = add_party(client, headers)
    waitlist = app.extensions["waitlist"]
    message = waitlist.messages.conversation(SLUG, party["id"])[0]
    waitlist.messages.advance(SLUG, message["id"], "sent", now=waitlist.clock())
    waitlist.messages.advance(SLUG, message["id"], "delivered", now=waitlist.clock())
    waitlist.messages.add(SLUG, {"id": "in1", "party": party["id"], "direction": "in", "body": "1",
                                 "created_at": repr(waitlist.clock())})
    texts = stats_of(client, headers)["total"]["texts"]
    assert {k: texts[k] for k in ("sent", "delivered", "received", "reply_rate")} == \
        {"sent": 1, "delivered": 1, "received": 1, "reply_rate": 1.0}


def rate(app: Flask, party: dict[str, Any], *replies: str) -> None:
    waitlist = app.extensions["waitlist"]
    restaurant = waitlist.restaurant(SLUG)
    waitlist.update_settings(restaurant, {"feedback": True})
    assert waitlist.request_feedback(SLUG, party["id"])
    for reply in replies:
        waitlist.take_feedback(waitlist.restaurant(SLUG), party["phone"], reply)


def test_feedback_is_counted_and_lands_on_the_visit_record(client: FlaskClient, headers: dict[str, str],
                                                           app: Flask) -> None:
    party = add_party(client, headers, name="Ana")
    act(client, headers, party, "seat")
    stats_of(client, headers)  # the visit is folded before the rating arrives
    rate(app, party, "2", "The soup was cold")
    feedback = stats_of(client, headers)["total"]["feedback"]
    assert (feedback["count"], feedback["average_rating"], feedback["low_ratings"], feedback["comments"]) == \
        (1, 2.0, 1, 1)
    service = owner(app)
    restaurant = app.extensions["waitlist"].restaurant(SLUG)
    [(_, visit)] = service.visits(restaurant, *service.date_range(restaurant, None, None))
    assert (visit["name"], visit["rating"], visit["comment"]) == ("Ana", 2, "The soup was cold")


def test_two_folders_never_count_an_event_twice(app: Flask, headers: dict[str, str], client: FlaskClient) -> None:
    add_party(client, headers)
    restaurant = app.extensions["waitlist"].restaurant(SLUG)
    service = owner(app)
    assert service.refresh(restaurant) == 1
    assert service.refresh(restaurant) == 0
    assert stats_of(client, headers)["total"]["parties"]["joined"] == 1


def test_events_are_folded_in_batches_up_to_the_newest(app: Flask, headers: dict[str, str],
                                                       client: FlaskClient) -> None:
    for _ in range(7):
        add_party(client, headers)
    restaurant = app.extensions["waitlist"].restaurant(SLUG)
    store = StatsStore(app.extensions["redis"])
    assert store.fold(SLUG, owner(app).zone(restaurant), 30, batch=3) == 7
    assert store.cursor(SLUG) == app.extensions["redis"].xrevrange(events_key(SLUG), count=1)[0][0]


# --- the visits CSV --------------------------------------------------------------------------------------

def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("query, phone", [({}, r"\+1\*{6}\d{4}"), ({"include_phone": "1"}, r"\+1415555\d{4}")])
def test_the_visits_csv_masks_phone_numbers_unless_asked(client: FlaskClient, headers: dict[str, str],
                                                         clock: Clock, query: dict[str, str], phone: str) -> None:
    an_evening(client, headers, clock)
    rows = csv_rows(client.get(f"/api/v1/restaurants/{SLUG}/visits.csv", query_string=query, headers=headers))
    assert [r["outcome"] for r in rows] == ["seated", "cancelled", "no_show"]
    assert all(re.fullmatch(phone, r["phone"]) for r in rows)
    assert rows[0]["name"] == "Guest 0" and rows[0]["waited_minutes"] == "20.0" and rows[0]["seated"]


# --- the dashboard ---------------------------------------------------------------------------------------

def test_the_dashboard_sends_a_signed_out_owner_to_sign_in(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    response = client.get(f"/owner/{SLUG}")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/owner/{SLUG}/signin")
    assert client.get(f"/owner/{SLUG}/visits.csv").status_code == 401


def test_a_wrong_key_does_not_sign_in(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    client.get(f"/owner/{SLUG}/signin")
    with client.session_transaction() as session:
        token = session["csrf"]
    response = client.post(f"/owner/{SLUG}/signin", data={"api_key": "wlk_nope", "csrf_token": token})
    assert response.status_code == 401 and b"That key is not valid." in response.data


def test_the_dashboard_draws_its_charts_and_escapes_guest_text(client: FlaskClient, headers: dict[str, str],
                                                               restaurant: dict[str, Any], app: Flask) -> None:
    party = add_party(client, headers, name="<script>alert(1)</script>")
    act(client, headers, party, "seat")
    stats_of(client, headers)
    rate(app, party, "1", "<img src=x onerror=alert(2)>")
    sign_in(client, restaurant["api_key"])
    response = client.get(f"/owner/{SLUG}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert page.count("<svg") == 4 and "<rect" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page and "<img" not in page
    assert 'id="low-ratings"' in page and "1 / 5" in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_dashboard_csv_link_works_with_the_session(client: FlaskClient, headers: dict[str, str],
                                                       restaurant: dict[str, Any], clock: Clock) -> None:
    an_evening(client, headers, clock)
    sign_in(client, restaurant["api_key"])
    assert len(csv_rows(client.get(f"/owner/{SLUG}/visits.csv"))) == 3


def test_charts_say_so_when_there_is_nothing_to_draw(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"])
    page = client.get(f"/owner/{SLUG}").get_data(as_text=True)
    assert page.count("No data for these days yet.") == 4


@pytest.mark.parametrize("value, top, step", [
    (0, 1.0, 0.25), (3, 3, 1), (17, 20, 5), (42, 60, 20), (130, 150, 50), (0.33, 0.4, 0.1),
])
def test_chart_axes_end_on_a_round_number(value: float, top: float, step: float) -> None:
    from waitlist.web.owner import nice_max

    assert nice_max(value) == pytest.approx((top, step))


@pytest.mark.parametrize("share, ticks", [
    (0.0, ["0%", "5%", "10%"]),
    (0.1, ["0%", "5%", "10%"]),
    (0.13, ["0%", "5%", "10%", "15%"]),
    (0.37, ["0%", "10%", "20%", "30%", "40%"]),
    (0.8, ["0%", "20%", "40%", "60%", "80%"]),
    (0.9, ["0%", "25%", "50%", "75%", "100%"]),
    (1.0, ["0%", "25%", "50%", "75%", "100%"]),
])
def test_a_percentage_axis_has_whole_round_percent_ticks(share: float, ticks: list[str]) -> None:
    from waitlist.web.owner import rates_chart

    day = {"date": "2024-05-03", "parties": {"no_show_rate": share, "cancel_rate": share / 2, "finished": 10,
                                             "seated": 8, "no_shows": 1, "cancelled": 1}}
    chart = rates_chart({"days": [day, {**day, "date": "2024-05-04"}]})
    assert [tick["text"] for tick in chart.y_ticks] == ticks


# --- retention and forgetting ------------------------------------------------------------------------------

def test_the_retention_sweep_erases_old_texts_and_keeps_the_counters(client: FlaskClient, headers: dict[str, str],
                                                                     app: Flask, clock: Clock) -> None:
    an_evening(client, headers, clock)
    redis = app.extensions["redis"]
    restaurant = app.extensions["waitlist"].restaurant(SLUG)
    owner(app).refresh(restaurant)
    assert list(redis.scan_iter(match=f"{message_prefix(SLUG)}*"))
    clock.advance(31 * 86400)
    erased = owner(app).sweep(restaurant)
    assert erased["messages"] >= 4 and not list(redis.scan_iter(match=f"{message_prefix(SLUG)}*"))
    first = stats.service_day(clock.now - 31 * 86400, owner(app).zone(restaurant))
    body = stats_of(client, headers, **{"from": first, "to": first})
    assert body["total"]["parties"]["joined"] == 4


def test_visit_records_expire_after_the_retention_days(client: FlaskClient, headers: dict[str, str], app: Flask,
                                                       clock: Clock) -> None:
    an_evening(client, headers, clock)
    restaurant = app.extensions["waitlist"].restaurant(SLUG)
    owner(app).refresh(restaurant)
    day = stats.service_day(clock.now, owner(app).zone(restaurant))
    ttl = app.extensions["redis"].ttl(visits_key(SLUG, day))
    assert 30 * 86400 < ttl <= 31 * 86400 + 5


def everything_in(redis: Any, key: str) -> str:
    kind = redis.type(key)
    read = {"hash": redis.hgetall, "string": redis.get, "set": redis.smembers,
            "list": lambda k: redis.lrange(k, 0, -1), "zset": lambda k: redis.zrange(k, 0, -1)}.get(kind)
    return key + str(read(key)) if read else key


def test_forget_erases_a_guest_everywhere_and_takes_an_active_party_off_the_list(
        app: Flask, client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    redis = app.extensions["redis"]
    phone = "+14155557777"
    earlier = add_party(client, headers, name="Forget Me", phone=phone)
    act(client, headers, earlier, "seat")
    rate(app, earlier, "1", "call me at home")
    now_waiting = add_party(client, headers, name="Forget Me", phone=phone)
    other = add_party(client, headers, name="Keep Me")
    stats_of(client, headers)
    result = app.test_cli_runner().invoke(args=["restaurant", "forget", "(415) 555-7777"])
    assert result.exit_code == 0, result.output
    assert "+14155557777" not in result.output and "+1******7777" in result.output
    waitlist = app.extensions["waitlist"]
    assert [p.id for p in waitlist.list_parties(waitlist.restaurant(SLUG))] == [other["id"]]
    dump = str(redis.xrange(events_key(SLUG))) + "".join(everything_in(redis, key) for key in redis.keys("*"))
    assert phone not in dump and "Forget Me" not in dump and "call me at home" not in dump
    assert "Keep Me" in dump
    assert not redis.exists(f"wl:{{{SLUG}}}:party:{now_waiting['id']}")
    for party in (earlier, now_waiting):  # their guest links are gone, not just leading nowhere
        assert not redis.exists(token_key(SLUG, guest_token(party)))
        assert client.get(f"/api/v1/status/{guest_token(party)}").status_code == 404
    assert redis.exists(token_key(SLUG, guest_token(other)))
    assert stats_of(client, headers)["total"]["parties"]["joined"] == 3  # counters name nobody: they stay


def test_forget_of_an_unknown_number_erases_nothing(app: Flask, restaurant: dict[str, Any]) -> None:
    result = app.test_cli_runner().invoke(args=["restaurant", "forget", "+14155550000"])
    assert result.exit_code == 0 and '"erased": {}' in result.output


def test_forget_refuses_what_is_not_a_phone_number(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["restaurant", "forget", "not-a-number"])
    assert result.exit_code == 1 and "invalid_input" in result.output


def test_forget_rewrites_the_fold_cursor_so_a_racing_fold_retries(app: Flask, client: FlaskClient,
                                                                 headers: dict[str, str]) -> None:
    party = add_party(client, headers, phone="+14155557778")
    act(client, headers, party, "seat")
    stats_of(client, headers)
    redis = app.extensions["redis"]
    cursor = redis.get(stats_cursor_key(SLUG))
    owner(app).forget("+14155557778")
    assert redis.get(stats_cursor_key(SLUG)) == cursor


# --- periodic jobs -------------------------------------------------------------------------------------------

def test_periodic_jobs_are_booked_once_per_time_slot() -> None:
    connection = fakeredis.FakeRedis()
    first = jobs.schedule_periodic(connection, now=1_000_000.0)
    again = jobs.schedule_periodic(connection, now=1_000_100.0)
    assert first == again == ["periodic-fold_stats-3334", "periodic-retention_sweep-278"]
    from rq import Queue

    registry = ScheduledJobRegistry(queue=Queue(jobs.PERIODIC_QUEUE, connection=connection))
    assert sorted(registry.get_job_ids()) == sorted(first)


def test_the_fold_and_sweep_jobs_cover_every_restaurant(app: Flask, client: FlaskClient, headers: dict[str, str],
                                                        sender: Any) -> None:
    add_party(client, headers)
    second = create_restaurant(client, slug="ramen-bar", sms_from="+14155550177")
    add_party(client, auth(second["api_key"]), slug="ramen-bar")
    assert jobs.fold_stats() == 2
    assert jobs.fold_stats() == 0
    assert jobs.retention_sweep() == 0


def test_a_long_range_totals_from_monthly_rollups_the_same_as_day_by_day(client: FlaskClient,
                                                                         headers: dict[str, str],
                                                                         clock: Clock) -> None:
    an_evening(client, headers, clock)
    clock.advance(-40 * 86400)
    an_evening(client, headers, clock)
    clock.advance(40 * 86400)
    to = stats_of(client, headers)["to"]
    # The first of a month some 100 days back (the tests run on today's date, and a range may span 400
    # days at most): whole months come from the monthly rollups, the rest day by day.
    query = {"from": (date.fromisoformat(to) - timedelta(days=100)).replace(day=1).isoformat(), "to": to}
    rolled = stats_of(client, headers, **query)
    day_by_day = stats_of(client, headers, breakdown="1", **query)
    assert rolled["total"] == day_by_day["total"] and rolled["total"]["parties"]["joined"] == 8
    assert rolled["days"][-1]["wait"]["by_hour"] == {} and day_by_day["days"][-1]["wait"]["by_hour"]
    assert [d["parties"] for d in rolled["days"]] == [
        {**d["parties"], "joined_by_hour": {}} for d in day_by_day["days"]]


def test_a_periodic_run_books_the_next_one_and_then_folds(app: Flask, client: FlaskClient,
                                                          headers: dict[str, str], sender: Any) -> None:
    from rq import Queue, SimpleWorker

    add_party(client, headers)
    connection = fakeredis.FakeRedis()
    queue = Queue(jobs.PERIODIC_QUEUE, connection=connection)
    job = queue.enqueue("workers.jobs.run_periodic", "fold_stats", job_id="periodic-fold_stats-first")
    SimpleWorker([queue], connection=connection).work(burst=True)
    job.refresh()
    assert job.return_value() == 1
    booked = ScheduledJobRegistry(queue=queue).get_job_ids()
    assert len(booked) == 1 and booked[0].startswith("periodic-fold_stats-")
