"""notify's parts, made once from the settings: the renderer, who hears what beyond the event
(links and coordinators), the handler table, and how messages leave. `create_app` makes them
(for the web app and for the worker, which runs inside it) and keeps them on the app, where
views and tasks read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub_shared.bus import Handler
from hub_shared.config import Settings
from hub_shared.tokens import REQUESTER_CHECK_LINK, LinkSigner
from notify.audiences import People, handlers
from notify.rendering import Renderer


@dataclass(frozen=True)
class Notify:
    renderer: Renderer
    people: People
    handlers: Mapping[str, Handler]


def bootstrap(settings: Settings, signer: LinkSigner, *, templates_dir: str | Path | None) -> Notify:
    renderer = Renderer(templates_dir)
    people = people_of(settings, signer)
    return Notify(renderer=renderer, people=people, handlers=handlers(renderer.render, people))


def people_of(settings: Settings, signer: LinkSigner) -> People:
    """The coordinators beyond those with the role, and the links into intake that messages carry."""
    intake = settings.intake_url

    def check_link(request_id: str, answer: str) -> str:
        return f"{intake}/requests/check/{signer.sign(REQUESTER_CHECK_LINK, request_id)}/{answer}"

    return People(
        check_link=check_link,
        request_link=lambda request_id: f"{intake}/requests/{request_id}",
        coordinators=settings.coordinators_email,
    )
