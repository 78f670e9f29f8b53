"""Screenshots of the main pages for the README, from a running hub with example data:

    .venv/bin/python -m tests.browser.screenshots

Not a test: it starts a hub like the browser tests do, fills it through its APIs, signs in as a
coordinator and as a council officer, and writes docs/screenshots/*.png."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.support.hub import HubClient, request_body, running_hub

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "a long screenshot password"
PEOPLE = [
    ("Margaret Hill", "020 8547 5000", "KT2 6AB", "shopping", "urgent", False),
    ("John Smith", "07700 900201", "KT1 2AB", "prescription", "normal", True),
    ("Grace Okafor", "07700 900202", "KT6 5QR", "befriending", "low", False),
    ("Stanislaw Nowak", "07700 900203", "KT3 4AA", "other", "normal", False),
    ("Priya Patel", "07700 900204", "KT5 8BB", "dog_walking", "normal", False),
]


def fill(hub: HubClient) -> None:
    for email, postcode, skills in (
        ("asha@example.org", "KT2 5PQ", ["shopping", "prescription_collection"]),
        ("ben@example.org", "KT1 1EU", ["shopping", "dog_walking"]),
    ):
        hub.add_volunteer(
            email=email, name=email.split("@")[0].capitalize(), postcode=postcode, skills=skills
        )
    for name, phone, postcode, need, urgency, safeguarding in PEOPLE:
        requester = request_body()["requester"] | {"name": name, "phone": phone, "postcode": postcode}
        hub.submit_request(requester=requester, need=need, urgency=urgency, safeguarding=safeguarding)
    for i in range(40):  # enough for the dashboard to show counts above its suppression threshold
        requester = request_body()["requester"] | {"postcode": f"KT{1 + i % 4} 1AA"}
        hub.submit_request(requester=requester, need=("shopping", "prescription", "food_parcel")[i % 3])


def signed_in(page: Page, hub: HubClient, email: str, role: str) -> None:
    hub.person(email, role, PASSWORD)
    page.goto(hub.url("intake", "/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def shoot(page: Page, url: str, name: str) -> None:
    page.goto(url)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def main() -> None:
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("chromium is not installed (apt-get install chromium)")
    OUT.mkdir(parents=True, exist_ok=True)
    with running_hub("sqlite") as hub, sync_playwright() as driver:
        fill(hub)
        browser = driver.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        signed_in(page, hub, "ada@hub.example", "coordinator")
        page.wait_for_timeout(3000)  # matching and the timeline catch up
        shoot(page, hub.url("intake", "/queue"), "queue")
        page.goto(hub.url("intake", "/"))
        page.get_by_role("button", name="Save and get a reference").click()
        page.screenshot(path=str(OUT / "call-form-errors.png"))
        page.goto(hub.url("intake", "/queue?view=all"))
        page.get_by_role("row").filter(has_text="Margaret Hill").get_by_role("link").first.click()
        page.screenshot(path=str(OUT / "request.png"), full_page=True)
        shoot(page, hub.url("dispatch", "/volunteers"), "volunteers")
        council = browser.new_page(viewport={"width": 1200, "height": 800})
        signed_in(council, hub, "officer@council.example", "council")
        shoot(council, hub.url("intake", "/dashboard"), "dashboard")
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        signed_in(phone, hub, "bea@hub.example", "coordinator")
        shoot(phone, hub.url("intake", "/"), "call-form-phone")
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
