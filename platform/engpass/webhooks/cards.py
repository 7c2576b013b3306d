"""A ``ChatMessage`` as each chat service wants it: an Adaptive Card for a Teams workflow webhook, Block Kit for a
Slack incoming webhook. Pure functions, no translation here: the message arrives in its language."""

from __future__ import annotations

from typing import Any

from engpass.webhooks.chat_messages import ChatMessage
from engpass.webhooks.models import EndpointKind

ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def teams(message: ChatMessage) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": message.headline, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": message.title, "wrap": True},
    ]
    if message.facts:
        body.append({"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in message.facts]})
    card: dict[str, Any] = {"$schema": ADAPTIVE_CARD_SCHEMA, "type": "AdaptiveCard", "version": "1.4", "body": body}
    if message.link_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": message.link_label, "url": message.link_url}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _mrkdwn_escaped(text: str) -> str:
    """Slack's three control characters; everything else is shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(message: ChatMessage) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.headline[:150], "emoji": False}},
        {"type": "section", "text": {"type": "plain_text", "text": message.title or "-", "emoji": False}},
    ]
    if message.facts:
        fields = [
            {"type": "mrkdwn", "text": f"*{_mrkdwn_escaped(name)}*\n{_mrkdwn_escaped(value)}"}
            for name, value in message.facts[:10]
        ]
        blocks.append({"type": "section", "fields": fields})
    if message.link_url:
        button = {"type": "button", "text": {"type": "plain_text", "text": message.link_label}, "url": message.link_url}
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": message.fallback, "blocks": blocks}


BUILDERS = {EndpointKind.teams: teams, EndpointKind.slack: slack}
