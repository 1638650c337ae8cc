"""The aggregation rules (waitlist.domain.stats) and visit records (waitlist.domain.visits) over hand-made
event lists: no Redis, no app."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from waitlist.domain import stats, visits

ZONE = ZoneInfo("America/New_York")


def at(text: str) -> float:
    """Local New York time "2026-03-06 18:30" as epoch seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).timestamp()


class Events:
    """Builds a stream of events with increasing ids, like the store's Lua scripts write them."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, dict[str, str]]] = []

    def add(self, **fields: Any) -> Events:
        self.entries.append((f"{len(self.entries) + 1}-0", {k: "" if v is None else str(v) for k, v in fields.items()}))
        return self

    def join(self, party: str, when: str, size: int = 2) -> Events:
        return self.add(type="status", party=party, to="waiting", at=at(when), actor="host", size=size, **{"from": ""})

    def finish(self, party: str, target: str, joined: str, when: str, size: int = 2, quote: int | None = 15,
               source: str = "waiting", actor: str = "host") -> Events:
        return self.add(type="status", party=party, to=target, at=at(when), actor=actor, size=size,
                        joined=at(joined), quote=quote, notified="", **{"from": source})

    def notify(self, party: str, joined: str, when: str) -> Events:
        return self.add(type="status", party=party, to="notified", at=at(when), actor="host", size=2,
                        joined=at(joined), quote=15, notified=at(when), **{"from": "waiting"})

    def undo(self, party: str, source: str, when: str) -> Events:
        return self.add(type="status", party=party, to="waiting", at=at(when), actor="host", undo="1",
                        **{"from": source})

    def sms(self, party: str, source: str, target: str, when: str) -> Events:
        return self.add(type="sms", message=f"m-{party}", party=party, kind="joined", to=target, at=at(when),
                        **{"from": source})

    def sms_in(self, party: str, when: str) -> Events:
        return self.add(type="sms_in", message="in", party=party, at=at(when))

    def rating(self, party: str, value: int, when: str) -> Events:
        return self.add(type="feedback", party=party, rating=value, at=at(when))

    def comment(self, party: str, text: str, when: str) -> Events:
        return self.add(type="feedback", party=party, comment=text, at=at(when))


def counters(events: Events, **kwargs: Any) -> dict[str, Counter[str]]:
    return stats.fold(events.entries, ZONE, **kwargs).counters


def total(events: Events) -> dict[str, Any]:
    folded = stats.fold(events.entries, ZONE)
    return stats.summarize(stats.merge(folded.counters.values()))


# --- days and buckets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("local, day", [
    ("2026-03-06 18:30", "2026-03-06"),
    ("2026-03-07 00:30", "2026-03-06"),   # after midnight still belongs to Friday's service
    ("2026-03-07 03:59", "2026-03-06"),
    ("2026-03-07 04:00", "2026-03-07"),
    ("2026-03-08 12:00", "2026-03-08"),   # the day clocks spring forward
])
def test_an_instant_belongs_to_the_service_day_that_starts_at_four_am(local: str, day: str) -> None:
    assert stats.service_day(at(local), ZONE) == day


def test_service_day_bounds_run_from_four_am_to_four_am_local_time() -> None:
    start, end = stats.day_bounds("2026-03-06", ZONE)
    assert start == at("2026-03-06 04:00") and end == at("2026-03-07 04:00")


@pytest.mark.parametrize("minutes, bucket", [
    (0, 0), (0.9, 0), (12.4, 12), (59.99, 59), (60, 60), (64.9, 60), (65, 65), (179, 175), (180, 180), (600, 180),
    (-3, 0),
])
def test_waits_fall_in_minute_buckets_then_five_minute_buckets_then_one_long_bucket(minutes: float,
                                                                                    bucket: int) -> None:
    assert stats.wait_bucket(minutes) == bucket


@pytest.mark.parametrize("size, bucket", [(1, "1"), (2, "2"), (7, "7"), (8, "8+"), (20, "8+")])
def test_large_parties_share_one_size_bucket(size: int, bucket: str) -> None:
    assert stats.size_bucket(size) == bucket


@pytest.mark.parametrize("histogram, share, expected", [
    ({10: 1}, 0.5, 10.5),
    ({10: 1, 20: 1}, 0.5, 10.5),          # nearest rank: the 1st of 2
    ({10: 1, 20: 1, 30: 1}, 0.5, 20.5),
    ({5: 9, 40: 1}, 0.9, 5.5),
    ({5: 8, 40: 2}, 0.9, 40.5),
    ({70: 3}, 0.5, 72.5),                 # a five-minute bucket reports its middle
    ({180: 2}, 0.9, 180.0),
    ({}, 0.5, None),
])
def test_percentiles_are_nearest_rank_at_the_bucket_middle(histogram: dict[int, int], share: float,
                                                           expected: float | None) -> None:
    assert stats.percentile(histogram, share) == expected


# --- parties -----------------------------------------------------------------------------------------------

def test_a_join_counts_on_its_day_and_hour() -> None:
    day = counters(Events().join("a", "2026-03-06 18:10").join("b", "2026-03-06 18:50").join("c", "2026-03-06 19:05"))
    assert day == {"2026-03-06": Counter({"joined": 3, "jh:18": 2, "jh:19": 1})}


def test_outcomes_count_on_the_day_the_party_joined_even_after_midnight() -> None:
    events = Events().join("a", "2026-03-06 23:50").finish("a", "seated", "2026-03-06 23:50", "2026-03-07 04:20")
    assert set(counters(events)) == {"2026-03-06"}


@pytest.mark.parametrize("target, actor, expected", [
    ("seated", "host", {"seated": 1, "covers": 4, "walk_aways": 0, "cancelled": 0, "no_shows": 0}),
    ("cancelled", "host", {"seated": 0, "covers": 0, "walk_aways": 1, "cancelled": 1, "guest_cancelled": 0}),
    ("cancelled", "guest", {"walk_aways": 1, "cancelled": 1, "guest_cancelled": 1}),
    ("cancelled", "sms", {"walk_aways": 1, "cancelled": 1, "guest_cancelled": 1}),
    ("no_show", "timer", {"walk_aways": 1, "no_shows": 1, "cancelled": 0}),
])
def test_each_way_of_leaving_the_list_is_counted_and_walk_aways_are_everyone_not_seated(
        target: str, actor: str, expected: dict[str, int]) -> None:
    events = Events().join("a", "2026-03-06 18:00", size=4).finish("a", target, "2026-03-06 18:00",
                                                                   "2026-03-06 18:30", size=4, actor=actor)
    parties = total(events)["parties"]
    assert {k: parties[k] for k in expected} == expected


def test_rates_are_shares_of_the_parties_that_left_the_list() -> None:
    events = Events()
    for n, target in enumerate(["seated", "seated", "no_show", "cancelled"]):
        events.join(str(n), "2026-03-06 18:00").finish(str(n), target, "2026-03-06 18:00", "2026-03-06 18:20")
    parties = total(events)["parties"]
    assert (parties["finished"], parties["no_show_rate"], parties["cancel_rate"], parties["walk_away_rate"]) == \
        (4, 0.25, 0.25, 0.5)


def test_only_the_first_notify_counts_and_seating_after_completion_is_not_counted_twice() -> None:
    events = (Events().join("a", "2026-03-06 18:00").notify("a", "2026-03-06 18:00", "2026-03-06 18:20")
              .add(type="status", party="a", to="notified", at=at("2026-03-06 18:25"), joined=at("2026-03-06 18:00"),
                   **{"from": "notified"})
              .finish("a", "seated", "2026-03-06 18:00", "2026-03-06 18:30", source="notified")
              .add(type="status", party="a", to="completed", at=at("2026-03-06 19:30"), joined=at("2026-03-06 18:00"),
                   **{"from": "seated"}))
    parties = total(events)["parties"]
    assert (parties["notified"], parties["seated"]) == (1, 1)


def test_an_unconfirmed_remote_join_is_not_a_party_until_confirmed() -> None:
    events = (Events().add(type="status", party="r", to="pending", at=at("2026-03-06 17:00"), **{"from": ""})
              .add(type="status", party="r", to="cancelled", at=at("2026-03-06 17:10"), **{"from": "pending"})
              .add(type="status", party="s", to="pending", at=at("2026-03-06 17:00"), **{"from": ""})
              .add(type="status", party="s", to="waiting", at=at("2026-03-06 17:05"), **{"from": "pending"}))
    parties = total(events)["parties"]
    assert (parties["joined"], parties["cancelled"], parties["walk_aways"]) == (1, 0, 0)


def test_remote_joins_and_tags_are_counted_when_the_party_takes_its_place() -> None:
    events = (Events().add(type="status", party="r", to="pending", at=at("2026-03-06 17:00"), remote="1",
                           tags="high_chair", **{"from": ""})
              .add(type="status", party="r", to="waiting", at=at("2026-03-06 17:02"), remote="1",
                   tags="high_chair", **{"from": "pending"})
              .add(type="status", party="v", to="waiting", at=at("2026-03-06 17:05"), remote="",
                   tags="accessible,vip", **{"from": ""}))
    parties = total(events)["parties"]
    assert parties["joined"] == 2 and parties["remote"] == 1
    assert parties["tags"] == {"accessible": 1, "high_chair": 1, "vip": 1}


def test_an_undone_seat_takes_its_counts_back_and_the_second_seat_counts_once() -> None:
    events = (Events().join("a", "2026-03-06 18:00")
              .finish("a", "seated", "2026-03-06 18:00", "2026-03-06 18:20")
              .undo("a", "seated", "2026-03-06 18:20")
              .finish("a", "seated", "2026-03-06 18:00", "2026-03-06 18:40"))
    summary = total(events)
    assert summary["parties"]["seated"] == 1
    assert summary["wait"]["overall"] == {"n": 1, "mean": 40.0, "median": 40.5, "p90": 40.5}


def test_an_undo_in_a_later_batch_subtracts_the_finish_remembered_from_the_earlier_one() -> None:
    first = stats.fold(Events().join("a", "2026-03-06 18:00")
                       .finish("a", "no_show", "2026-03-06 18:00", "2026-03-06 18:20").entries, ZONE)
    second = stats.fold(Events().undo("a", "no_show", "2026-03-06 18:20").entries, ZONE,
                        finish_of=first.finishes.get)
    merged = stats.merge([*first.counters.values(), *second.counters.values()])
    assert merged["no_show"] == 0 and merged["walk_away"] == 0 and merged["joined"] == 1
    assert second.removed_visits == {("2026-03-06", "a")} and second.undone == {"a"}


def test_an_undo_without_a_remembered_finish_changes_nothing() -> None:
    assert counters(Events().undo("a", "seated", "2026-03-06 18:20")) == {}


# --- waits and quotes ------------------------------------------------------------------------------------

def test_waits_are_summarised_overall_by_hour_joined_and_by_party_size() -> None:
    events = Events()
    for n, (joined, seated, size) in enumerate([("18:00", "18:10", 2), ("18:30", "18:50", 2), ("19:00", "19:30", 4),
                                                ("19:10", "19:50", 9)]):
        events.finish(str(n), "seated", f"2026-03-06 {joined}", f"2026-03-06 {seated}", size=size)
    wait = total(events)["wait"]
    assert wait["overall"] == {"n": 4, "mean": 25.0, "median": 20.5, "p90": 40.5}
    assert wait["by_hour"] == {"18": {"n": 2, "mean": 15.0, "median": 10.5, "p90": 20.5},
                               "19": {"n": 2, "mean": 35.0, "median": 30.5, "p90": 40.5}}
    assert list(wait["by_size"]) == ["2", "4", "8+"]
    assert wait["by_size"]["8+"] == {"n": 1, "mean": 40.0, "median": 40.5, "p90": 40.5}


def test_walk_aways_do_not_count_as_waits() -> None:
    events = Events().finish("a", "cancelled", "2026-03-06 18:00", "2026-03-06 19:00")
    assert total(events)["wait"]["overall"]["n"] == 0


@pytest.mark.parametrize("quote, waited, bucket", [
    (20, 20, "qin5"), (20, 25, "qin5"), (20, 15, "qin5"), (20, 26, "qunder"), (20, 14, "qover"), (0, 40, "qunder"),
])
def test_each_quote_is_within_five_minutes_or_under_or_over(quote: int, waited: int, bucket: str) -> None:
    fields = stats.finish_fields("seated", size=2, joined=0.0, at=waited * 60.0, quote=quote, actor="host",
                                 zone=ZONE)
    assert {k for k in ("qin5", "qunder", "qover") if fields.get(k)} == {bucket}
    assert fields["qerr"] == abs(waited - quote) * 60


def test_quote_accuracy_sums_up_the_seated_parties_with_a_quote() -> None:
    events = (Events().finish("a", "seated", "2026-03-06 18:00", "2026-03-06 18:20", quote=20)
              .finish("b", "seated", "2026-03-06 18:00", "2026-03-06 18:40", quote=20)
              .finish("c", "seated", "2026-03-06 18:00", "2026-03-06 18:10", quote=None)
              .finish("d", "no_show", "2026-03-06 18:00", "2026-03-06 18:50", quote=20))
    quote = total(events)["quote"]
    assert quote == {"n": 2, "mean_abs_error": 10.0, "within_5_min": 0.5, "under_quote_rate": 0.5,
                     "over_quote_rate": 0.0, "mean_quoted": 20.0, "mean_waited": 30.0}



def test_host_set_quotes_are_counted_apart_from_the_estimators() -> None:
    events = (Events().finish("a", "seated", "2026-03-06 18:00", "2026-03-06 18:20", quote=20)
              .add(type="status", party="h", to="seated", at=at("2026-03-06 18:50"), actor="host", size=2,
                   joined=at("2026-03-06 18:00"), quote=45, quote_source="host", quote_at=at("2026-03-06 18:00"),
                   **{"from": "waiting"}))
    report = total(events)
    assert report["quote"] == {"n": 1, "mean_abs_error": 0.0, "within_5_min": 1.0, "under_quote_rate": 0.0,
                               "over_quote_rate": 0.0, "mean_quoted": 20.0, "mean_waited": 20.0}
    assert report["quote_host"] == {"n": 1, "mean_abs_error": 5.0, "within_5_min": 1.0, "under_quote_rate": 0.0,
                                    "over_quote_rate": 0.0, "mean_quoted": 45.0, "mean_waited": 50.0}


def test_a_host_quote_given_later_counts_the_wait_from_when_it_was_given() -> None:
    fields = stats.finish_fields("seated", size=2, joined=0.0, at=60 * 60.0, quote=30, actor="host", zone=ZONE,
                                 quote_source="host", quote_at=20 * 60.0)
    assert fields["qhn"] == 1 and fields["qhact"] == 40 * 60 and fields["qherr"] == 10 * 60 and fields["qhunder"] == 1
    assert "qn" not in fields and fields["wt"] == 60 * 60  # the wait itself still counts from the join


def test_the_host_quote_counters_are_read_for_each_day_of_a_long_range() -> None:
    assert {"qhn", "qherr", "qhsum", "qhact", "qhin5", "qhunder", "qhover"} <= set(stats.DAY_FIELDS)


def test_an_undone_notify_takes_its_notified_count_back() -> None:
    events = (Events().join("a", "2026-03-06 18:00").notify("a", "2026-03-06 18:00", "2026-03-06 18:30")
              .add(type="status", party="a", to="waiting", at=at("2026-03-06 18:30"), actor="host", undo="1",
                   joined=at("2026-03-06 18:00"), **{"from": "notified"})
              .notify("a", "2026-03-06 18:00", "2026-03-06 18:40"))
    assert total(events)["parties"]["notified"] == 1


# --- texts, replies and feedback ---------------------------------------------------------------------------

@pytest.mark.parametrize("path, expected", [
    (["queued", "sent", "delivered"], {"sent": 1, "delivered": 1, "failed": 0}),
    (["queued", "delivered"], {"sent": 1, "delivered": 1, "failed": 0}),      # callbacks out of order
    (["queued", "sent", "undelivered"], {"sent": 1, "delivered": 0, "failed": 1}),
    (["queued", "failed"], {"sent": 0, "delivered": 0, "failed": 1}),
    (["queued", "suppressed"], {"sent": 0, "suppressed": 1}),
])
def test_a_text_counts_once_as_sent_then_as_delivered_or_failed(path: list[str], expected: dict[str, int]) -> None:
    events = Events()
    for source, target in pairwise(path):
        events.sms("a", source, target, "2026-03-06 18:00")
    texts = total(events)["texts"]
    assert {k: texts[k] for k in expected} == expected


def test_reply_rate_is_parties_that_texted_back_over_parties_texted_that_day() -> None:
    events = (Events().sms("a", "queued", "sent", "2026-03-06 18:00").sms("a", "queued", "sent", "2026-03-06 18:05")
              .sms("b", "queued", "sent", "2026-03-06 18:00").sms("c", "queued", "delivered", "2026-03-06 18:00")
              .sms("d", "queued", "failed", "2026-03-06 18:00")
              .sms_in("a", "2026-03-06 18:10").sms_in("a", "2026-03-06 18:11").sms_in("b", "2026-03-06 18:12")
              .sms_in("", "2026-03-06 18:13"))
    texts = total(events)["texts"]
    assert (texts["parties_texted"], texts["parties_replied"], texts["received"], texts["reply_rate"]) == \
        (3, 2, 4, 0.667)


def test_a_reply_already_counted_in_an_earlier_batch_is_not_counted_again() -> None:
    folded = stats.fold(Events().sms_in("a", "2026-03-06 18:10").entries, ZONE,
                        seen=lambda day, token: (day, token) == ("2026-03-06", "r:a"))
    assert folded.counters["2026-03-06"] == Counter({"received": 1})
    assert folded.seen == {"2026-03-06": set()}


def test_feedback_counts_ratings_their_average_low_ones_and_comments() -> None:
    events = (Events().rating("a", 5, "2026-03-06 20:00").rating("b", 2, "2026-03-06 20:05")
              .comment("b", "cold soup", "2026-03-06 20:06").rating("c", 1, "2026-03-06 20:10")
              .rating("d", 9, "2026-03-06 20:10"))
    feedback = total(events)["feedback"]
    assert feedback == {"count": 3, "average_rating": 2.67, "ratings": {"1": 1, "2": 1, "3": 0, "4": 0, "5": 1},
                        "low_ratings": 2, "comments": 1}


# --- visit records ---------------------------------------------------------------------------------------

def test_a_finished_party_leaves_a_visit_record_with_its_name_and_phone_from_the_party_hash() -> None:
    events = Events().finish("a", "seated", "2026-03-06 18:00", "2026-03-06 18:25", size=3, quote=20)
    folded = stats.fold(events.entries, ZONE, party_info=lambda pid: {"name": "Ana", "phone": "+14155550123"})
    visit = folded.visits[("2026-03-06", "a")]
    assert {k: visit[k] for k in ("name", "phone", "size", "quote", "waited", "outcome", "rating", "comment")} == {
        "name": "Ana", "phone": "+14155550123", "size": 3, "quote": 20, "waited": 25.0, "outcome": "seated",
        "rating": None, "comment": None}
    assert visit["seated"] == at("2026-03-06 18:25")


def test_feedback_lands_on_a_visit_of_the_same_batch_or_becomes_an_update_for_an_earlier_one() -> None:
    events = (Events().finish("a", "seated", "2026-03-06 18:00", "2026-03-06 18:25")
              .rating("a", 2, "2026-03-06 19:30").comment("a", "slow", "2026-03-06 19:31")
              .rating("old", 4, "2026-03-06 19:32"))
    folded = stats.fold(events.entries, ZONE)
    assert (folded.visits[("2026-03-06", "a")]["rating"], folded.visits[("2026-03-06", "a")]["comment"]) == (2, "slow")
    assert folded.visit_updates == {"old": ("2026-03-06", {"rating": 4})}


def test_the_fold_reports_how_far_it_got() -> None:
    folded = stats.fold(Events().join("a", "2026-03-06 18:00").add(type="move", party="a").entries, ZONE)
    assert (folded.events, folded.last_id) == (2, "2-0")


def test_low_ratings_list_visits_rated_one_or_two_newest_first() -> None:
    records = [("2026-03-06", {"name": "A", "rating": 1, "comment": "cold", "joined": 1.0, "size": 2}),
               ("2026-03-06", {"name": "B", "rating": 5, "joined": 2.0}),
               ("2026-03-07", {"name": "C", "rating": 2, "joined": 3.0, "size": 4}),
               ("2026-03-07", {"name": "D", "rating": None, "joined": 4.0})]
    assert [(v["name"], v["comment"]) for v in visits.low_ratings(records)] == [("C", ""), ("A", "cold")]


@pytest.mark.parametrize("include_phone, phone", [(False, "+1******0123"), (True, "+14155550123")])
def test_a_csv_row_masks_the_phone_unless_asked(include_phone: bool, phone: str) -> None:
    visit = {"name": "Ana", "phone": "+14155550123", "size": 2, "joined": at("2026-03-06 18:00"),
             "seated": at("2026-03-06 18:20"), "quote": 15, "waited": 20.0, "outcome": "seated", "rating": 4,
             "comment": None}
    row = visits.visit_row("2026-03-06", visit, ZONE, include_phone)
    assert row == ["2026-03-06", "Ana", phone, "2", "2026-03-06T18:00-05:00", "2026-03-06T18:20-05:00", "15", "20.0",
                   "seated", "4", ""]


@pytest.mark.parametrize("text, cell", [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1", "'+1"), ("@x", "'@x"),
                                        ("-2", "'-2"), ("Ana", "Ana")])
def test_guest_text_in_the_csv_cannot_start_a_formula(text: str, cell: str) -> None:
    row = visits.visit_row("2026-03-06", {"name": text, "comment": text}, ZONE, False)
    assert row[1] == cell and row[10] == cell


def test_a_report_has_every_day_asked_and_their_total() -> None:
    days = [("2026-03-06", Counter({"joined": 2})), ("2026-03-07", Counter()), ("2026-03-08", Counter({"joined": 3}))]
    result = stats.report(days)
    assert [d["date"] for d in result["days"]] == ["2026-03-06", "2026-03-07", "2026-03-08"]
    assert result["total"]["parties"]["joined"] == 5
    assert result["days"][1]["wait"]["overall"] == {"n": 0, "mean": None, "median": None, "p90": None}


@pytest.mark.parametrize("n, breakdown, per_day_hours", [(31, None, True), (32, None, False), (40, True, True),
                                                         (3, False, False)])
def test_long_ranges_break_down_by_hour_only_in_their_total_unless_asked(n: int, breakdown: bool | None,
                                                                         per_day_hours: bool) -> None:
    day = Counter({"joined": 1, "jh:18": 1, "w:12": 1, "wt": 720, "wh:18:12": 1, "wth:18": 720, "ws:2:12": 1,
                   "wts:2": 720})
    result = stats.report([(f"d{i}", day) for i in range(n)], breakdown)
    assert ("by_hour" in result["days"][0]["wait"] and bool(result["days"][0]["wait"]["by_hour"])) == per_day_hours
    assert result["total"]["wait"]["by_hour"]["18"]["n"] == n
    assert result["days"][0]["wait"]["overall"]["n"] == 1


@pytest.mark.parametrize("first, last, months, loose", [
    ("2026-03-01", "2026-03-31", ["2026-03"], []),
    ("2026-02-01", "2026-02-28", ["2026-02"], []),
    ("2026-03-02", "2026-03-31", [], 30),
    ("2026-01-15", "2026-04-02", ["2026-02", "2026-03"], 17 + 2),
    ("2025-12-01", "2026-11-30", ["2025-12", *[f"2026-{m:02d}" for m in range(1, 12)]], []),
])
def test_a_range_reads_whole_months_from_rollups_and_only_the_other_days_one_by_one(
        first: str, last: str, months: list[str], loose: Any) -> None:
    got_months, got_loose = stats.split_range(stats.days_between(first, last))
    assert got_months == months
    assert len(got_loose) == (loose if isinstance(loose, int) else len(loose))


def test_a_day_read_without_its_histograms_still_has_its_mean_wait() -> None:
    summary = stats.summarize(Counter({"seated": 2, "wt": 1800}), breakdown=False)
    assert summary["wait"]["overall"] == {"n": 2, "mean": 15.0, "median": None, "p90": None}
