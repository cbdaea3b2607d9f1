"""German formatting and the HTML that editors' Markdown may become."""

from __future__ import annotations

import pytest

from portal.text import markdown, safe_html


def test_markdown_gives_the_elements_editors_write() -> None:
    assert str(markdown("## Fristen\n\n- **zwei** Wochen\n- [mehr](/stadt/a-z/)")) == (
        '<h2>Fristen</h2>\n<ul>\n<li><strong>zwei</strong> Wochen</li>\n<li><a href="/stadt/a-z/">mehr</a></li>\n</ul>')


@pytest.mark.parametrize("html, kept", [
    ('<p onclick="steal()">Text</p>', "<p>Text</p>"),
    ("<p>vor<script>alert(1)</script>nach</p>", "<p>vornach</p>"),
    ('<a href="javascript:alert(1)">Link</a>', "<a>Link</a>"),
    ('<a href="/stadt/" target="_blank" style="color:red">Link</a>', '<a href="/stadt/">Link</a>'),
    ('<iframe src="https://example.org/"></iframe><p>bleibt</p>', "<p>bleibt</p>"),
    ('<img src="https://tracker.example.org/x.gif" alt="">', ""),
    ('<form action="/konto/"><input name="x"></form>', ""),
    ("<style>main{display:none}</style><h2>Titel</h2>", "<h2>Titel</h2>"),
    ('<a href="mailto:post@beispiel.de">Post</a> <a href="tel:+492511">Telefon</a>',
     '<a href="mailto:post@beispiel.de">Post</a> <a href="tel:+492511">Telefon</a>'),
    ('<table><tr><th scope="col">Gebühr</th></tr><tr><td>5 €</td></tr></table>',
     '<table><tbody><tr><th scope="col">Gebühr</th></tr><tr><td>5 €</td></tr></tbody></table>'),
])
def test_safe_html_keeps_what_markdown_makes_and_drops_everything_else(html: str, kept: str) -> None:
    assert str(safe_html(html)) == kept


def test_markdown_from_content_cannot_carry_a_script() -> None:
    assert "<script" not in str(markdown("Text <script>alert(1)</script> und <b onmouseover=x>mehr</b>"))
