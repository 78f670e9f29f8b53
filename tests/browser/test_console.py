"""The console in a real browser (Playwright driving Debian's chromium) against the running hub:
a coordinator signs in, records a call from the form with the keyboard, sees it matched and its
timeline grow, and works an escalated request from the queue; a council officer sees the
dashboard and downloads its CSV. axe-core checks each main page: no serious or critical
violation."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.hub import HubClient, running_hub, wait_until
from tests.support.smtp import SmtpServer

playwright = pytest.importorskip("playwright.sync_api")

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# The WCAG 2.x A and AA rules (2.2 included) that axe-core can check automatically.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "a long browser test password"
PERSONAL = ("Margaret", "Example Road", "+44", "07700", "Milk and bread")


@pytest.fixture(scope="module")
def hub(smtp: SmtpServer) -> Iterator[HubClient]:
    with running_hub("sqlite", extra_env={"HUB_SMTP_URL": smtp.url}) as client:
        yield client


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    assert AXE.exists(), "axe-core is missing: `npm ci --prefix tests/browser` (make test does it)"
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium_path)
        yield launched
        launched.close()


def check_accessibility(page: Any, what: str) -> None:
    """axe-core over the page as it is: no serious or critical violation of WCAG A/AA."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: tags})).violations", WCAG_TAGS
    )
    bad = [
        {"rule": v["id"], "impact": v["impact"], "where": [n["target"] for n in v["nodes"]][:3]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{what}: {json.dumps(bad, indent=1)}"


def sign_in(browser: Any, hub: HubClient, email: str, role: str) -> Any:
    hub.person(email, role, PASSWORD)
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(hub.url("intake", "/sign-in"))
    check_accessibility(page, "sign-in page")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_a_coordinator_records_a_call_and_works_an_escalated_request(browser: Any, hub: HubClient) -> None:
    hub.add_volunteer(email="browser.volunteer@example.org", postcode="KT2 5PQ")
    page = sign_in(browser, hub, "ada.coordinator@example.org", "coordinator")
    page.wait_for_url("**/queue")
    check_accessibility(page, "queue")

    page.get_by_role("link", name="New call").click()
    check_accessibility(page, "call form")
    page.get_by_role("button", name="Save and get a reference").click()  # empty: errors first
    assert page.get_by_role("alert").get_by_text("There is a problem").is_visible()
    check_accessibility(page, "call form with errors")
    page.get_by_label("Name of the person who needs help").fill("Margaret Hill")
    page.keyboard.press("Tab")
    page.keyboard.type("020 8547 5000")  # the phone field is next: the form works from the keyboard
    page.get_by_label("Postcode").fill("KT2 6AB")
    page.get_by_label("Address where help is needed").fill("12 Example Road")
    page.get_by_label("What help do they need?").select_option("shopping")
    page.get_by_label("Details for the volunteer").fill("Milk and bread")
    page.get_by_label("They agree to the hub keeping their details to arrange help").check()
    page.get_by_role("button", name="Save and get a reference").click()
    reference = page.locator("#reference").inner_text()
    assert len(reference) == 7 and "Read this reference back" in page.content()
    check_accessibility(page, "request page")

    def matched() -> bool:
        page.reload()
        return (
            page.locator("#status").inner_text() == "offered"
            and page.locator("#timeline tbody tr").count() >= 3
        )

    wait_until(matched, timeout=30, what="the request to be matched and its timeline to grow")
    assert page.locator("#candidates tbody tr").count() == 1
    page.get_by_role("link", name="Reassign: offer it to a volunteer or refer it to a partner group").click()
    assert page.get_by_role("heading", name=f"Reassign {reference}").is_visible()  # dispatch, same session
    check_accessibility(page, "reassign page")
    for name, heading in (("Volunteers", "Volunteers"), ("Partners", "Partner groups")):
        page.get_by_role("link", name=name, exact=True).click()
        assert page.get_by_role("heading", name=heading, exact=True).is_visible()
        check_accessibility(page, f"{name.lower()} page")

    escalated = hub.submit_request(need="other", details="Needs a hand with a form")
    hub.wait_for_status(escalated["id"], "escalated")
    page.get_by_role("link", name="Queue").click()
    row = page.get_by_role("row").filter(has_text=escalated["reference"])
    assert "escalated" in row.inner_text()
    row.get_by_role("link", name=escalated["reference"]).click()
    page.get_by_label("Log a call: what was said or agreed").fill("Called back: a neighbour will help")
    page.get_by_role("button", name="Log call").click()
    page.get_by_label("Close with a reason").select_option("helped_elsewhere")
    page.get_by_role("button", name="Close request").click()
    assert page.locator("#status").inner_text() == "closed"
    timeline = page.locator("#timeline").inner_text()
    assert "Called back: a neighbour will help" in timeline and "ada.coordinator@example.org" in timeline
    check_accessibility(page, "request page after actions")
    page.context.close()


def test_a_council_officer_sees_the_dashboard_and_downloads_a_csv_without_personal_data(
    browser: Any, hub: HubClient
) -> None:
    for _ in range(5):
        hub.submit_request()
    page = sign_in(browser, hub, "cllr.officer@example.org", "council")
    page.wait_for_url("**/dashboard")
    assert page.get_by_role("table", name="Requests by need").is_visible()
    check_accessibility(page, "dashboard")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these numbers (CSV)").click()
    text = Path(download_info.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    shopping = [row for row in rows if row["section"] == "need" and row["category"] == "shopping"]
    assert shopping and int(shopping[0]["value"]) >= 5
    assert not any(word in text for word in PERSONAL)
    page.get_by_role("link", name="Status of one request").click()
    check_accessibility(page, "status by reference")
    page.context.close()


def test_a_partner_takes_a_referral_on_its_own_page(browser: Any, hub: HubClient) -> None:
    parcel = hub.submit_request(need="food_parcel")  # KT1: the Foodbank's first
    hub.wait_for_status(parcel["id"], "referred")
    hub.person("worker@foodbank.example", "partner", PASSWORD, partner="foodbank")
    page = browser.new_context().new_page()
    page.goto(hub.url("intake", "/sign-in"))
    page.get_by_label("Email address").fill("worker@foodbank.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/partner")  # dispatch's page, in the same session
    assert "Margaret" not in page.content()  # no personal details before accepting
    check_accessibility(page, "partner's referrals")
    page.get_by_role("button", name=f"Accept {parcel['reference']}").click()
    assert "Margaret Hill" in page.content()
    wait_until(
        lambda: "referral.accepted" in [e["kind"] for e in hub.request(parcel["id"])["timeline"]],
        what="intake to hear the Foodbank took it",
    )
    page.context.close()


def test_the_accessibility_check_finds_what_it_should(browser: Any) -> None:
    page = browser.new_page()
    page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
    with pytest.raises(AssertionError, match="label"):  # a field without a label is critical
        check_accessibility(page, "a page with an unlabelled field")
    page.close()
