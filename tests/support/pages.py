"""Following a link as a person would: open the page, find its one form, submit it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import TypedDict
from urllib.parse import urljoin

import requests


class Form(TypedDict):
    method: str
    action: str
    fields: dict[str, str]


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "method": (values.get("method") or "get").lower(),
                    "action": values.get("action") or "",
                    "fields": {},
                }
            )
        name = values.get("name")
        if tag in ("textarea", "select") and self.forms and name:
            self.forms[-1]["fields"][name] = ""
        elif tag == "input" and self.forms and name:
            self.forms[-1]["fields"][name] = values.get("value") or ""


def submit_the_form(url: str) -> requests.Response:
    """GET a page that must have exactly one form, then submit that form as it stands."""
    page = requests.get(url, timeout=10)
    assert page.status_code == 200, page.text
    parser = FormParser()
    parser.feed(page.text)
    assert len(parser.forms) == 1, f"expected one form on {url}, found {len(parser.forms)}"
    form = parser.forms[0]
    target = urljoin(url, form["action"])
    return requests.request(form["method"], target, data=form["fields"], timeout=10)


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)
