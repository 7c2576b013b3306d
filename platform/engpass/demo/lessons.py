"""What the demo's decided cycles learned, by title: what worked, what did not, what we would do differently.

Every decision keeps its lessons (docs/decisions.md); the demo shows them on each decided cycle, and the
template made from one (``PROVEN_TEMPLATE``) carries them.
"""

from __future__ import annotations

LESSONS: dict[str, tuple[str, str, str]] = {
    "Angebote dauern 9 Tage": (
        "Die Vorlage mit Kalkulationsblatt: Der Vertrieb rechnet nicht mehr jedes Angebot neu.",
        "Sonderanfertigungen passen nicht in die Vorlage und brauchen weiter die Konstruktion.",
        "Die Angebotsdauer von Anfang an wöchentlich messen, nicht erst nach dem Prototyp.",
    ),
    "Zu wenige qualifizierte Leads": (
        "Die Nachfass-Mails bringen mehr Anfragen, ohne dass jemand mehr telefoniert.",
        "Das Scoring bewertet Firmengröße zu hoch; viele Anfragen werden nie Aufträge.",
        "Die Kriterien mit dem Vertrieb festlegen, bevor wir automatisieren.",
    ),
    "Fehlerquote in der Auftragsabwicklung 7 %": (
        "Die Pflichtfelder im Auftragsformular fangen die häufigsten Fehler ab.",
        "Telefonische Aufträge laufen am Formular vorbei.",
        "Die Fehlerarten zuerst zählen; zwei Arten machten drei Viertel aus.",
    ),
    "Monatsreporting für Mandanten dauert zu lange": (
        "Die Auswertung kommt automatisch am 3. statt zur Monatsmitte.",
        "Mandanten mit eigener Buchhaltungssoftware brauchen weiter Handarbeit.",
        "Die Mandanten früher fragen, welche Zahlen sie wirklich lesen.",
    ),
    "Belege kommen unvollständig": (
        "Die Checkliste selbst fanden die Mandanten hilfreich.",
        "Erinnerungsmails werden kaum geöffnet; die Rückfragen blieben.",
        "Vor dem Bauen zwei Mandanten fragen, wie sie Belege sammeln.",
    ),
    "Support antwortet erst nach 30 Stunden": (
        "Antwortvorlagen für die zehn häufigsten Fragen decken zwei Drittel der Anfragen ab.",
        "Reklamationen brauchen weiter einen Menschen und die längste Zeit.",
        "Die Reaktionszeit pro Anfrageart messen, nicht nur im Schnitt.",
    ),
    "Retourenquote zu hoch": (
        "Der Größenberater senkt Retouren bei Jacken deutlich.",
        "Bei Schuhen hilft er kaum; die Maße der Hersteller sind zu verschieden.",
        "Mit einer Produktgruppe anfangen und dort erst sauber messen.",
    ),
}

# The demo's one template made from a decided cycle, with its measured numbers: (company, cycle title).
PROVEN_TEMPLATE = ("Müller Metallbau GmbH", "Angebote dauern 9 Tage")
# The one demo company whose cycles have no sponsor: the anti-pattern radar shows "no sponsor" there.
WITHOUT_SPONSOR = "Krause Outdoor Online-Shop"
# A company where an admin, not the owner, backs the open cycles: the sponsor who decides is not the owner.
ADMIN_SPONSOR = ("Schneider Logistik KG", "admin@demo.example")
