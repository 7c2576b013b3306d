"""The layout machinery of the PDFs Engpass draws with reportlab: the fonts, the print page's palette and type,
the building blocks (paragraphs, layout tables, rows of facts) and the A4 document with its footer.

Shared by the one-page business case (``pdf.py``) and the two-page decision paper (``decision_paper.py``), so
the two look like one family. The fonts are DejaVu Sans (``static/fonts``): the standard PDF fonts have no "−"
or "→".
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from jinja2.filters import do_truncate
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, KeepInFrame, PageBreak, PageTemplate, Paragraph, Table
from reportlab.platypus import TableStyle as Style

from engpass.charts import ACCENT, AXIS
from engpass.formatting import day
from engpass.organizations.models import Organization

FONTS = Path(__file__).resolve().parents[1] / "static" / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"

# The print page's palette (static/css/business-case-print.css).
INK = colors.HexColor("#17202e")
INK_2 = colors.HexColor("#3b4657")
MUTED = colors.HexColor(AXIS)
LINE = colors.HexColor("#d9dee5")
TONES = {"good": colors.HexColor("#12683f"), "bad": colors.HexColor("#b42318")}

MARGIN = 14 * mm
FOOTER = 8 * mm
# The text area of a page: A4 less the margins and the footer.
WIDTH, HEIGHT = A4[0] - 2 * MARGIN, A4[1] - 2 * MARGIN - FOOTER
# The print page shortens long texts after this many characters (``truncate(320)``); the title is clamped
# to three lines there, which at the PDF's title size is about this many characters.
TEXT_LIMIT = 320
TITLE_LIMIT = 150
# Names and units are short in practice but may be long: kept to a line or so, like the print page's clamps.
NAME_LIMIT = 60
UNIT_LIMIT = 20


def register_fonts() -> None:
    # reportlab keeps fonts in a process-wide registry: reading the files once is enough.
    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)


def shorten_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """Jinja's ``truncate``, as the print page applies it (same leeway), ending in an ellipsis character."""
    return do_truncate(current_app.jinja_env, text, limit, end="…")


def styles() -> dict[str, ParagraphStyle]:
    """The type of the sheets; the fonts are registered first, for the paragraphs made in these styles."""
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=8.5, leading=11, textColor=INK_2)
    return {
        "body": body,
        "eyebrow": ParagraphStyle("eyebrow", body, fontName=BOLD, fontSize=8, textColor=colors.HexColor(ACCENT)),
        "date": ParagraphStyle("date", body, fontSize=8, textColor=MUTED, alignment=TA_RIGHT),
        "title": ParagraphStyle("title", body, fontName=BOLD, fontSize=16, leading=19, textColor=INK, spaceBefore=3),
        "meta": ParagraphStyle("meta", body, textColor=MUTED, spaceBefore=3),
        "h2": ParagraphStyle(
            "h2", body, fontName=BOLD, fontSize=10, leading=13, textColor=INK, spaceBefore=8, spaceAfter=3
        ),
        "dt": ParagraphStyle("dt", body, fontSize=8, textColor=MUTED),
        "dd": ParagraphStyle("dd", body, fontName=BOLD, textColor=INK),
        "small": ParagraphStyle("small", body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "key_label": ParagraphStyle("key_label", body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "key_value": ParagraphStyle("key_value", body, fontName=BOLD, fontSize=13, leading=16, textColor=INK),
    }


def paragraph(text: str, style: ParagraphStyle, colour: colors.Color | None = None) -> Paragraph:
    """``text`` as it is (escaped, never read as markup), in ``colour`` when given."""
    markup = escape(text)
    if colour is not None:
        markup = f'<font color="{colour.hexval()}">{markup}</font>'
    return Paragraph(markup, style)


def layout_table(rows: list[list[Any]], widths: list[float], *commands: tuple[Any, ...]) -> Table:
    """A layout table flush with the text: no outer padding, top-aligned, and on the left should the sheet be
    scaled down (centred, it would drift away from the paragraphs, which widen instead)."""
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    everything = ((0, 0), (-1, -1))
    table.setStyle(Style([("VALIGN", *everything, "TOP"), ("LEFTPADDING", *everything, 0), *commands]))
    return table


def facts(rows: Sequence[tuple[str, str]], width: float, st: dict[str, ParagraphStyle]) -> Table:
    """Terms and their values, a ruled line each."""
    return layout_table(
        [[paragraph(term, st["dt"]), paragraph(value, st["dd"])] for term, value in rows],
        [width * 0.45, width * 0.55],
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
    )


def eyebrow(org: Organization, what: str, today: Any, st: dict[str, ParagraphStyle]) -> Table:
    """The sheet's first line: whose and what on the left, the as-of date on the right."""
    return layout_table(
        [
            [
                paragraph(f"{org.name} · {what}", st["eyebrow"]),
                paragraph(_("As of %(date)s", date=day(today)), st["date"]),
            ]
        ],
        [WIDTH * 0.7, WIDTH * 0.3],
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
    )


def render(org: Organization, title: str, pages: Sequence[list[Flowable]]) -> bytes:
    """An A4 document of exactly ``len(pages)`` pages, each page's flowables on its page, with the footer
    (organization, currency, the product's line) on every page; ``title`` is the document's metadata title.

    Whatever the texts, a page never spills onto the next: a page too tall for its frame is scaled down as a
    whole (``KeepInFrame``, ``shrink``).
    """
    footer_left = f"{org.name} · {_('Amounts in %(currency)s', currency=org.currency)}"
    footer_right = f"Engpass · {_('One bottleneck at a time.')}"

    def footer(canvas: Canvas, _doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, MARGIN + 11, A4[0] - MARGIN, MARGIN + 11)
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN, footer_left)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN, footer_right)
        canvas.restoreState()

    out = io.BytesIO()
    doc = BaseDocTemplate(
        out, pagesize=A4, title=title, author=org.name, creator="Engpass", lang=str(get_locale() or "de")
    )
    frame = Frame(MARGIN, MARGIN + FOOTER, WIDTH, HEIGHT, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate("sheet", frames=[frame], onPageEnd=footer)])
    story: list[Flowable] = []
    for index, page in enumerate(pages):
        if index:
            story.append(PageBreak())
        story.append(KeepInFrame(WIDTH, HEIGHT, page, mode="shrink"))
    doc.build(story)
    return out.getvalue()
