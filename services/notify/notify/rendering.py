"""Messages from templates (templates/email/*.txt, templates/sms/*.txt and the HTML layout),
which an admin can override or translate by putting their own in HUB_TEMPLATES_DIR.

notify's own Jinja environment renders them, so a message needs no Flask app: the pages (the
dev outbox) are Flask's, the messages are this module's."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader

from notify.enums import ChannelName, WithdrawalReason

SHIPPED = Path(__file__).parent / "templates"
LONDON = ZoneInfo("Europe/London")

# A translation's folder: the language as volunteers write it, in lower case ("welsh", "polish").
LANGUAGE = re.compile(r"[a-z][a-z-]{1,30}")


def london_time(moment: datetime) -> str:
    """Times are stored in UTC and shown as people in the hub read them (as the pages'
    `london` filter, hub_shared.web.london_time, shows them)."""
    return moment.astimezone(LONDON).strftime("%d %b %Y, %H:%M")


def escaped(name: str | None) -> bool:
    """HTML is escaped, text is as written (the rule Flask's environment has)."""
    return name is None or name.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))


class Renderer:
    """Renders messages: an admin's templates (`own`, HUB_TEMPLATES_DIR) first, then the
    shipped ones."""

    def __init__(self, own: str | Path | None) -> None:
        loaders: list[BaseLoader] = [FileSystemLoader(own)] if own else []
        self.env = Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(SHIPPED)]), autoescape=escaped)
        self.env.filters["london"] = london_time
        # Templates compare with these rather than with words of their own.
        self.env.globals.update(WithdrawalReason=WithdrawalReason)

    def render(self, channel: str, template: str, values: dict[str, Any]) -> tuple[str, str]:
        """An email template's first line is `Subject: ...`, the rest its body; a text message's
        template is its body (kept short: every 153 characters is another segment). A translation
        in `<channel>/<language>/` (the volunteer's first language) is used where there is one."""
        language = ((values.get("volunteer") or {}).get("language") or "").strip().lower()
        names = [f"{channel}/{language}/{template}.txt"] if LANGUAGE.fullmatch(language) else []
        text = self.env.select_template([*names, f"{channel}/{template}.txt"]).render(values)
        if channel == ChannelName.sms:
            return "", " ".join(text.split())
        first, _, body = text.partition("\n")
        return first.removeprefix("Subject:").strip(), body.lstrip("\n")

    def html_layout(self, subject: str, body: str) -> str:
        """An email's HTML part: its text in the hub's layout (templates/email/layout.html)."""
        paragraphs = [part.strip() for part in body.split("\n\n") if part.strip()]
        return self.env.get_template("email/layout.html").render(subject=subject, paragraphs=paragraphs)
