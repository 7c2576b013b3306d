"""Every HTML page and e-mail escapes what people typed: no HTML template takes in a text template.

Flask escapes by the name of the template being rendered, so a ``.txt`` template included into an ``.html``
one writes its values into the HTML as they are — a cycle's title in the digest went out as markup that way.
"""

from __future__ import annotations

import re

from engpass.settings import REPO_ROOT

TEMPLATES = REPO_ROOT / "templates"
TAKES_IN = re.compile(r"""\{%-?\s*(?:include|import|from|extends)\s+['"]([^'"]+)['"]""")
ESCAPED = (".html", ".htm", ".xml", ".xhtml", ".svg")


def test_no_html_template_takes_in_a_template_that_is_not_escaped():
    html_templates = [path for path in TEMPLATES.rglob("*") if path.suffix in ESCAPED]
    assert html_templates
    unescaped = {
        (str(path.relative_to(TEMPLATES)), name)
        for path in html_templates
        for name in TAKES_IN.findall(path.read_text(encoding="utf-8"))
        if not name.endswith(ESCAPED)
    }
    assert not unescaped, f"HTML templates that take in text templates (their values go out unescaped): {unescaped}"
