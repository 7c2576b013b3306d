"""The chat messages' JSON, exactly: an Adaptive Card for Teams, Block Kit for Slack, and the texts of an event
in German and English with numbers in that locale."""

from __future__ import annotations

from engpass.webhooks import cards
from engpass.webhooks.chat_messages import ChatMessage, compose

LINK = "https://engpass.example/o/mueller/cycles/7/"
MESSAGE = ChatMessage(
    headline="Entscheidung: Skalieren",
    title="Angebote <schneller> & besser",
    facts=(("Entscheidung", "Skalieren"), ("Ausgangswert", "1.234,5 Tage")),
    link_label="In Engpass öffnen",
    link_url=LINK,
)


def test_teams_gets_an_adaptive_card_in_a_message():
    assert cards.teams(MESSAGE) == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "Entscheidung: Skalieren",
                            "weight": "Bolder",
                            "size": "Medium",
                            "wrap": True,
                        },
                        {"type": "TextBlock", "text": "Angebote <schneller> & besser", "wrap": True},
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": "Entscheidung", "value": "Skalieren"},
                                {"title": "Ausgangswert", "value": "1.234,5 Tage"},
                            ],
                        },
                    ],
                    "actions": [{"type": "Action.OpenUrl", "title": "In Engpass öffnen", "url": LINK}],
                },
            }
        ],
    }


def test_slack_gets_block_kit_with_a_fallback_text_and_escaped_fields():
    assert cards.slack(MESSAGE) == {
        "text": "Entscheidung: Skalieren: Angebote <schneller> & besser",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Entscheidung: Skalieren", "emoji": False}},
            {
                "type": "section",
                "text": {"type": "plain_text", "text": "Angebote <schneller> & besser", "emoji": False},
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Entscheidung*\nSkalieren"},
                    {"type": "mrkdwn", "text": "*Ausgangswert*\n1.234,5 Tage"},
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "In Engpass öffnen"}, "url": LINK}
                ],
            },
        ],
    }


def test_without_facts_or_link_the_blocks_and_actions_are_left_out():
    bare = ChatMessage(headline="Jetzt in Lösung", title="", facts=(), link_label="x", link_url=None)
    assert cards.slack(bare)["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "text": "Jetzt in Lösung", "emoji": False}},
        {"type": "section", "text": {"type": "plain_text", "text": "-", "emoji": False}},
    ]
    content = cards.teams(bare)["attachments"][0]["content"]
    assert "actions" not in content and [block["type"] for block in content["body"]] == ["TextBlock", "TextBlock"]


STAGE_PAYLOAD = {
    "type": "cycle.stage_changed",
    "data": {
        "title": "Angebote dauern 9 Tage",
        "stage": "baseline",
        "previous_stage": "bottleneck",
        "backwards": False,
        "kpi_name": "Dauer",
        "kpi_unit": "Tage",
        "kpi_baseline": "1234.50",
        "kpi_target": None,
        "web_url": LINK,
    },
}
DECISION_PAYLOAD = {
    "type": "decision.recorded",
    "data": {"title": "Lead-Scoring", "decision": "scale", "decision_reason": "Spart 6 h pro Woche", "web_url": LINK},
}


def test_a_stage_change_in_german_and_english(app_context):
    german = compose(STAGE_PAYLOAD, "de")
    assert german == ChatMessage(
        headline="Jetzt in Ist-Zustand",
        title="Angebote dauern 9 Tage",
        facts=(("Stufe", "Engpass → Ist-Zustand"), ("Kennzahl", "Dauer"), ("Ausgangswert", "1.234,5 Tage")),
        link_label="In Engpass öffnen",
        link_url=LINK,
    )
    english = compose(STAGE_PAYLOAD, "en")
    assert english.headline == "Now in Status quo"
    assert english.facts == (("Stage", "Bottleneck → Status quo"), ("KPI", "Dauer"), ("Baseline", "1,234.5 Tage"))
    assert english.link_label == "Open in Engpass"


def test_a_decision_and_a_step_back(app_context):
    assert compose(DECISION_PAYLOAD, "de").facts == (("Entscheidung", "Skalieren"), ("Warum?", "Spart 6 h pro Woche"))
    assert compose(DECISION_PAYLOAD, "en").headline == "Decision: Scale"
    back = STAGE_PAYLOAD | {"data": STAGE_PAYLOAD["data"] | {"backwards": True}}
    assert compose(back, "de").headline == "Zurück in Ist-Zustand"
    # An organization's language the app does not speak reads German.
    assert compose(DECISION_PAYLOAD, "fr").headline == "Entscheidung: Skalieren"
