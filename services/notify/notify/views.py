"""notify's routes: the notification log API, the dev outbox page, and the SMS provider's
webhooks (replies and delivery receipts), each checked against the provider's signature."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from sqlalchemy import select

from hub_shared.app import context
from notify.app import notify
from notify.models import Message, Reply
from notify.replies import receive_reply
from notify.schemas import MessageDetailOut, MessageOut, MessageQuery, PersonQuery, ReplyOut
from notify.service import message_with_history, record_receipt, retry_failed
from notify.sms import signature_is_valid

api = ApiBlueprint("messages", __name__, url_prefix="/api/v1/messages", description="Notification log")
pages = Blueprint("pages", __name__)
provider = Blueprint("provider", __name__, url_prefix="/sms")


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


@api.route("/search")
class MessagesToPerson(MethodView):
    @api.arguments(PersonQuery)
    @api.response(200, MessageOut(many=True))
    def post(self, query: dict[str, Any]) -> list[Message]:
        """Every message to one person (their email address or phone), newest first. A POST, so
        the address or number stays out of URLs and logs."""
        recipient = query["recipient"].strip()
        statement = select(Message).where(Message.recipient == recipient).order_by(Message.created_at.desc())
        with context().db.sessions() as session:
            return list(session.scalars(statement.limit(500)))


replies_api = ApiBlueprint(
    "replies", __name__, url_prefix="/api/v1/replies", description="Texts from volunteers"
)


@replies_api.route("")
class Replies(MethodView):
    @replies_api.response(200, ReplyOut(many=True))
    def get(self) -> list[Reply]:
        """The texts volunteers sent, newest first; those the hub could not act on are `other`."""
        with context().db.sessions() as session:
            return list(session.scalars(select(Reply).order_by(Reply.received_at.desc()).limit(500)))


@api.route("/<message_id>")
class MessageById(MethodView):
    @api.response(200, MessageDetailOut)
    def get(self, message_id: str) -> Message:
        """One message with every attempt at sending it."""
        with context().db.sessions() as session:
            return message_with_history(session, message_id)


@api.route("/<message_id>/retry")
class RetryMessage(MethodView):
    @api.response(200, MessageOut)
    def post(self, message_id: str) -> Message:
        """Send a failed message again (say, a partner's webhook that was down): it is queued with
        a fresh count of attempts, and the sweep sends it."""
        return context().uow.run(retry_failed, message_id)


@pages.get("/outbox")
def outbox() -> str:
    """Every message with its text: in development, the mailbox nobody has to set up."""
    with context().db.sessions() as session:
        messages = list(session.scalars(select(Message).order_by(Message.created_at.desc()).limit(200)))
    return render_template("outbox.html", messages=messages, smtp=context().settings.smtp_url is not None)


# -- the SMS provider's webhooks ------------------------------------------------------------------

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signed_by_the_provider() -> None:
    """403 unless X-Twilio-Signature matches this request, signed with the auth token over our
    public URL (HUB_NOTIFY_URL + path) and the form; 404 if no provider is configured."""
    settings = context().settings
    if settings.sms is None:
        abort(404)
    url = settings.notify_url + request.path
    given = request.headers.get("X-Twilio-Signature", "")
    if not signature_is_valid(settings.sms.auth_token, url, request.form.items(multi=True), given):
        abort(403)


@provider.post("/inbound")
def inbound() -> Response:
    """A volunteer's reply: YES or NO answers their open offer, DONE their task, STOP opts them
    out; anything else waits for the coordinators in the replies log."""
    signed_by_the_provider()
    form = request.form
    if not form.get("MessageSid") or not form.get("From"):
        abort(400)
    hub, parts = context(), notify()
    hub.uow.run(
        receive_reply,
        hub.bus,
        render=parts.renderer.render,
        people=parts.people,
        provider_id=form["MessageSid"],
        sender=form["From"],
        body=form.get("Body", ""),
    )
    return Response(EMPTY_TWIML, mimetype="text/xml")


@provider.post("/status")
def status() -> Response:
    """A delivery receipt for a text we sent."""
    signed_by_the_provider()
    form = request.form
    if not form.get("MessageSid") or not form.get("MessageStatus"):
        abort(400)
    hub = context()
    hub.uow.run(
        record_receipt,
        hub.bus,
        provider_id=form["MessageSid"],
        status=form["MessageStatus"],
        error_code=form.get("ErrorCode"),
    )
    return Response(status=204)
