"""Public estimates are worked out once per state of the line and half-minute (Access._estimates), and a
change of the line is seen at once."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import add_party
from tests.unit.test_calibration import service
from waitlist.estimate import estimator
from waitlist.services import access
from waitlist.services.backtest import EPOCH


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]

    def counting(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        return estimator.estimate_waits(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(access, "estimate_waits", counting)
    return calls


def test_the_same_question_while_nothing_changes_is_worked_out_once(counted: list[int]) -> None:
    waitlist, clock, _redis = service()
    restaurant, _key = waitlist.create_restaurant("memo", "Memo", "+14155550100")
    restaurant.settings = waitlist.update_settings(restaurant, {"tables": {"2": 2, "4": 2}})
    clock.now = EPOCH + 12 * 3600
    for n in range(6):
        waitlist.join(restaurant, name=f"P{n}", phone=f"+1415{4000000 + n:07d}", party_size=2, actor="host")
    counted[0] = 0
    answers = {waitlist.estimate(restaurant, 2) for _ in range(20)}
    assert len(answers) == 1 and counted[0] == 1
    # The lobby board's sizes are a question of their own, asked once as well.
    for _ in range(5):
        waitlist.estimates_by_size(restaurant, [2, 4])
    assert counted[0] == 2


def test_a_change_of_the_line_is_seen_at_once_and_time_after_half_a_minute(counted: list[int]) -> None:
    waitlist, clock, _redis = service()
    restaurant, _key = waitlist.create_restaurant("memo2", "Memo", "+14155550100")
    restaurant.settings = waitlist.update_settings(restaurant, {"tables": {"2": 1}})
    clock.now = EPOCH + 12 * 3600
    first = waitlist.join(restaurant, name="A", phone="+14154000001", party_size=2, actor="host")
    before = waitlist.estimate(restaurant, 2)
    clock.now += 1
    waitlist.join(restaurant, name="B", phone="+14154000002", party_size=2, actor="host")
    assert waitlist.estimate(restaurant, 2).parties_ahead == before.parties_ahead + 1
    waitlist.seat(restaurant, first.id, actor="host")
    assert waitlist.estimate(restaurant, 2).parties_ahead == before.parties_ahead
    calls = counted[0]
    waitlist.estimate(restaurant, 2)
    assert counted[0] == calls  # same state, same half-minute
    clock.now += access.ESTIMATE_MEMO_SECONDS
    waitlist.estimate(restaurant, 2)
    assert counted[0] == calls + 1


def test_the_public_estimate_reads_the_restaurant_and_its_line_in_one_round_trip(
        client: FlaskClient, headers: dict[str, str], redis: Any) -> None:
    """The endpoint is asked many times a second: the restaurant (to check the request) and the snapshot
    (to answer it) come from one script, without the API key a host's read of the same script needs."""
    add_party(client, headers)
    path = "/api/v1/restaurants/noodle-bar/estimate?party_size=2"
    assert client.get(path).status_code == 200  # scripts loaded
    sent: list[str] = []
    original = redis.execute_command

    def counting(*args: Any, **kwargs: Any) -> Any:
        sent.append(" ".join(str(a) for a in args[:3]))
        return original(*args, **kwargs)

    redis.execute_command = counting
    answer = client.get(path).get_json()
    ours = [command for command in sent if "LIMITER" not in command.upper()]
    assert len(ours) == 1 and ours[0].startswith("EVALSHA"), sent
    assert answer["parties_ahead"] == 1
    unknown = client.get("/api/v1/restaurants/nobody-here/estimate?party_size=2")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "restaurant_not_found"
