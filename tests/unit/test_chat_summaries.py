"""The overdue list and the weekly summary as Teams and Slack see them: the exact JSON, in German and English,
numbers and money in that locale, at most five overdue items and "and 2 more"."""

from __future__ import annotations

from engpass.webhooks import cards
from engpass.webhooks.chat_messages import compose

TODO = "https://engpass.example/o/mueller/todo/"
DASHBOARD = "https://engpass.example/o/mueller/"
RULES = ["missing_baseline", "overdue_prototype", "missing_measurement", "no_next_bottleneck", "no_owner"]
OVERDUE_PAYLOAD = {
    "type": "reminders.overdue",
    "data": {
        "period": "2026-12-07",
        "title": "Müller Metallbau",
        "day": "2026-12-07",
        "items": [
            {
                "rule": RULES[(index - 1) % len(RULES)],
                "cycle_id": index,
                "cycle_title": f"Zyklus {index}",
                "since": f"2026-11-0{index}",
                "web_url": f"https://engpass.example/o/mueller/cycles/{index}/",
            }
            for index in range(1, 8)
        ],
        "web_url": TODO,
    },
}
WEEKLY_PAYLOAD = {
    "type": "digest.weekly",
    "data": {
        "period": "2026-W49",
        "title": "Müller Metallbau",
        "week_start": "2026-11-30",
        "week_end": "2026-12-06",
        "level": 3,
        "level_trend": 1,
        "euros_per_year": "27040.00",
        "euros_gained": "1234.50",
        "currency": "EUR",
        "changes": 4,
        "open_cycles": 2,
        "open_warnings": 1,
        "web_url": DASHBOARD,
    },
}


def _mrkdwn(name: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{name}*\n{value}"}


def test_the_overdue_list_in_slack_in_german_lists_five_and_counts_the_rest(app_context):
    assert cards.slack(compose(OVERDUE_PAYLOAD, "de")) == {
        "text": "7 Punkte sind überfällig: Müller Metallbau",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "7 Punkte sind überfällig", "emoji": False}},
            {"type": "section", "text": {"type": "plain_text", "text": "Müller Metallbau", "emoji": False}},
            {
                "type": "section",
                "fields": [
                    _mrkdwn("Zyklus 1", "Ist-Zustand nicht quantifiziert, seit 01.11.2026"),
                    _mrkdwn("Zyklus 2", "Prototyp überfällig, seit 02.11.2026"),
                    _mrkdwn("Zyklus 3", "Keine aktuelle Messung, seit 03.11.2026"),
                    _mrkdwn("Zyklus 4", "Nächster Engpass nicht benannt, seit 04.11.2026"),
                    _mrkdwn("Zyklus 5", "Niemand verantwortlich, seit 05.11.2026"),
                    _mrkdwn("…", "und 2 weitere"),
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "In Engpass öffnen"}, "url": TODO}
                ],
            },
        ],
    }


def test_one_overdue_item_in_english(app_context):
    one = OVERDUE_PAYLOAD | {"data": OVERDUE_PAYLOAD["data"] | {"items": OVERDUE_PAYLOAD["data"]["items"][1:2]}}
    message = compose(one, "en")
    assert (message.headline, message.facts) == (
        "1 item is overdue",
        (("Zyklus 2", "Prototype overdue, since Nov 2, 2026"),),
    )


def test_the_weekly_summary_as_a_teams_card_in_german(app_context):
    content = cards.teams(compose(WEEKLY_PAYLOAD, "de"))["attachments"][0]["content"]
    assert content["body"] == [
        {
            "type": "TextBlock",
            "text": "Wochenüberblick 30.11.2026 – 06.12.2026",
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {"type": "TextBlock", "text": "Müller Metallbau", "wrap": True},
        {
            "type": "FactSet",
            "facts": [
                {"title": "Reifegrad", "value": "3"},
                {"title": "Einsparung pro Jahr", "value": "27.040\xa0€"},
                {"title": "Diese Woche hinzugekommen", "value": "1.234,50\xa0€"},
                {"title": "Änderungen dieser Woche", "value": "4"},
                {"title": "Offene Warnsignale", "value": "1"},
            ],
        },
    ]
    assert content["actions"] == [{"type": "Action.OpenUrl", "title": "In Engpass öffnen", "url": DASHBOARD}]


def test_the_weekly_summary_in_english_and_without_a_snapshot_yet(app_context):
    english = compose(WEEKLY_PAYLOAD, "en")
    assert english.headline == "Weekly summary Nov 30, 2026 – Dec 6, 2026"
    assert english.facts[1:3] == (("Savings per year", "€27,040"), ("Added this week", "€1,234.50"))
    bare = WEEKLY_PAYLOAD | {"data": WEEKLY_PAYLOAD["data"] | {"level": None, "euros_per_year": None}}
    assert compose(bare, "de").facts[:2] == (("Reifegrad", "–"), ("Einsparung pro Jahr", "–"))
