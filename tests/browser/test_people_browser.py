"""People in a real browser (issue 24): an owner's invitation goes to the development outbox, Mei
accepts it, signs out and in again, switches to her restaurant in one click, seats a party at the host
stand, and the list says she did; where she is a viewer the stand shows the list, live, without buttons.
Screenshots in test-artifacts/."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import TABLET, Server, shoot

PASSWORD = "correct horse battery"


def test_invite_accept_sign_in_act_as_host_and_the_actor_shows_on_the_list(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("people-place", name="People Place")
    other_key = server.create_restaurant("people-two", name="Second Place")
    owner = new_page(TABLET)
    made = owner.request.post(f"{server.url}/api/v1/restaurants/people-place/invitations",
                              headers={"Authorization": f"Bearer {key}"},
                              data={"email": "mei@example.com", "role": "host"})
    assert made.status == 201
    owner.request.post(f"{server.url}/api/v1/restaurants/people-two/invitations",
                       headers={"Authorization": f"Bearer {other_key}"}, data={"email": "mei@example.com",
                                                                              "role": "viewer"})
    outbox = owner.request.get(f"{server.url}/dev/outbox").json()["messages"]
    link = next(re.search(r"https?://\S+", m["body"]).group(0) for m in outbox  # type: ignore[union-attr]
                if m["to"] == "mei@example.com" and "People Place" in m["body"])
    assert link == made.json()["invite_url"]

    mei = new_page(TABLET)
    mei.goto(link)
    expect(mei.locator("p.lead")).to_contain_text("mei@example.com to People Place as host")
    mei.fill("#name", "Mei")
    mei.fill("#password", PASSWORD)
    shoot(mei, "people-invitation")
    mei.click("button[type=submit]")
    mei.wait_for_url(re.compile(r"/host/people-place$"))
    mei.goto(f"{server.url}/account")
    mei.click("button:has-text('Sign out')")
    mei.wait_for_url(re.compile(r"/account/signin$"))
    mei.goto(f"{server.url}/account/invite/" + link.rsplit("/", 1)[1])
    expect(mei.locator(".field-error")).to_contain_text("used already")  # single use

    # the second invitation: an existing account accepts with its password
    second = next(re.search(r"https?://\S+", m["body"]).group(0) for m in outbox  # type: ignore[union-attr]
                  if m["to"] == "mei@example.com" and "Second Place" in m["body"])
    mei.goto(second)
    expect(mei.locator("#name")).to_have_count(0)
    mei.fill("#password", PASSWORD)
    mei.click("button[type=submit]")
    mei.wait_for_url(re.compile(r"/host/people-two$"))
    mei.goto(f"{server.url}/account")
    mei.click("button:has-text('Sign out')")

    mei.goto(f"{server.url}/account/signin")
    mei.fill("#email", "mei@example.com")
    mei.fill("#password", PASSWORD)
    mei.click("button[type=submit]")
    mei.wait_for_url(re.compile(r"/account$"))
    expect(mei.locator("a.switch")).to_have_count(2)
    shoot(mei, "people-switcher")

    server.add_party("people-place", "Ada Lovelace", "+14155557001")
    mei.click("a.switch:has-text('People Place')")  # one click to the restaurant
    mei.wait_for_url(re.compile(r"/host/people-place$"))
    row = mei.locator(".party", has_text="Ada Lovelace")
    row.locator(".menu summary").click()
    row.locator(".menu-body button", has_text="Seat").click()
    done = mei.locator("#finished .done-seated", has_text="Ada Lovelace")
    expect(done).to_contain_text("by Mei")
    mei.locator("#finished summary").click()
    expect(done).to_be_visible()
    shoot(mei, "people-seated-by-mei")
    mei.reload()
    expect(mei.locator("#finished .done-seated", has_text="Ada Lovelace")).to_contain_text("by Mei")

    # a viewer elsewhere, one click away on the stand: the list is readable, the people page refused
    mei.click("header a.switch:has-text('Second Place')")
    mei.wait_for_url(re.compile(r"/host/people-two$"))
    expect(mei.locator("#list")).to_be_visible()
    expect(mei.locator("section.add")).to_contain_text("View only")  # no add form, no buttons to be refused
    expect(mei.locator("#add-form")).to_have_count(0)
    server.add_party("people-two", "Grace Hopper", "+14155557002")
    row = mei.locator(".party", has_text="Grace Hopper")
    expect(row).to_be_visible()  # live, without a reload
    expect(row.locator(".main-action, .menu")).to_have_count(0)
    shoot(mei, "people-viewer-stand")
    assert mei.request.get(f"{server.url}/people/people-place").status == 403
    mei.click("button:has-text('Sign out')")  # the host stand's sign-out ends the person's session
    mei.goto(f"{server.url}/host/people-place")
    mei.wait_for_url(re.compile(r"/host/people-place/signin$"))
    assert mei.js_errors == []
