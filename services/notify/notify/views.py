"""notify's routes: the notification log API and the dev outbox page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from sqlalchemy import select

from hub_shared.app import context
from notify.models import Message
from notify.schemas import MessageOut, MessageQuery

api = ApiBlueprint("messages", __name__, url_prefix="/api/v1/messages", description="Notification log")
pages = Blueprint("pages", __name__)


@api.route("")
class Messages(MethodView):
    @api.arguments(MessageQuery, location="query")
    @api.response(200, MessageOut(many=True))
    def get(self, query: dict[str, Any]) -> list[Message]:
        """Messages, newest first; `request_id` narrows them to one request."""
        statement = select(Message).order_by(Message.created_at.desc()).limit(500)
        if query["request_id"]:
            statement = statement.where(Message.request_id == query["request_id"])
        with context().db.sessions() as session:
            return list(session.scalars(statement))


@pages.get("/outbox")
def outbox() -> str:
    """Every message with its text: in development, the mailbox nobody has to set up."""
    with context().db.sessions() as session:
        messages = list(session.scalars(select(Message).order_by(Message.created_at.desc()).limit(200)))
    return render_template("outbox.html", messages=messages, smtp=context().settings.smtp_url is not None)
