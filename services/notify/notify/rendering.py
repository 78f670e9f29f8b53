"""Messages from templates (templates/email/*.txt, templates/sms/*.txt and the HTML layout),
which an admin can override or translate by putting their own in HUB_TEMPLATES_DIR."""

from __future__ import annotations

import re
from typing import Any

from flask import render_template

from notify.enums import ChannelName

# A translation's folder: the language as volunteers write it, in lower case ("welsh", "polish").
LANGUAGE = re.compile(r"[a-z][a-z-]{1,30}")


def render(channel: str, template: str, values: dict[str, Any]) -> tuple[str, str]:
    """An email template's first line is `Subject: ...`, the rest its body; a text message's
    template is its body (kept short: every 153 characters is another segment). A translation
    in `<channel>/<language>/` (the volunteer's first language) is used where there is one."""
    language = ((values.get("volunteer") or {}).get("language") or "").strip().lower()
    names = [f"{channel}/{language}/{template}.txt"] if LANGUAGE.fullmatch(language) else []
    text = render_template([*names, f"{channel}/{template}.txt"], **values)
    if channel == ChannelName.sms:
        return "", " ".join(text.split())
    first, _, body = text.partition("\n")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


def html_layout(subject: str, body: str) -> str:
    """An email's HTML part: its text in the hub's layout (templates/email/layout.html)."""
    paragraphs = [part.strip() for part in body.split("\n\n") if part.strip()]
    return render_template("email/layout.html", subject=subject, paragraphs=paragraphs)
