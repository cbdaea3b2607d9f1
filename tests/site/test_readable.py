"""The reader's check itself: it finds what it promises to find, and nothing in good German."""

from __future__ import annotations

import pytest

from . import readable


def page(main: str, outside: str = "") -> str:
    return (f"<!DOCTYPE html><html lang='de'><head><title>T</title><script>var x = '{{{{ None }}}}';</script></head>"
            f"<body><header>{outside}</header><main id='inhalt'>{main}</main><footer>{outside}</footer></body></html>")


@pytest.mark.parametrize("main, kind", [
    ("<p>&lt;h2&gt;Willkommen&lt;/h2&gt; &lt;p&gt;Text&lt;/p&gt;</p>", "markup shown as text: '<h2>'"),
    ("<p>Gebühr: 5 &amp;euro;</p>", "escaped character shown as text: '&euro;'"),
    ("<p>Ihr Termin am None</p>", "Python's None: 'None'"),
    ("<p>Noch NaN Plätze</p>", "JavaScript's undefined or NaN: 'NaN'"),
    ("<p>Hallo {{ name }}</p>", "template syntax: '{{'"),
    ("<p>Hallo {name}, willkommen</p>", "template syntax: '{name}'"),
    ("<p>TODO: Text fehlt</p>", "placeholder: 'TODO'"),
    ("<p>Lorem ipsum dolor</p>", "placeholder: 'Lorem'"),
    ("<p>Sehr geehrte [NAME],</p>", "placeholder: '[NAME]'"),
    ("<p>Weitere Angaben [...]</p>", "placeholder: '[...]'"),
    ("<h1>Not Found</h1>", "English framework text: 'Not Found'"),
    ("<h1>Method Not Allowed</h1>", "English framework text: 'Method Not Allowed'"),
    ("<p>Redirecting...</p>", "English framework text: 'Redirecting'"),
    ("<p>Please click here</p>", "English framework text: 'click here'"),
    ("<span class='fehler'>This field is required.</span>", "English framework text: 'This field'"),
    ("<p>The CSRF token is missing.</p>", "English framework text: 'CSRF token'"),
    ("<input type='text' name='ort' value='None'>", "Python's None: 'None'"),
    ("<input type='submit' value='Submit {{ label }}'>", "template syntax: '{{'"),
    ("<img src='x.png' alt='TODO'>", "placeholder: 'TODO'"),
])
def test_each_kind_of_unreadable_text_is_found(main: str, kind: str) -> None:
    found = readable.problems(page(main))
    assert any(problem.startswith(kind) for problem in found), found


def test_good_german_text_and_what_nobody_reads_are_not_problems() -> None:
    main = ("<h1>Personalausweis beantragen</h1><p>Gebühr: 37,00 € &ndash; für Personen unter 24 Jahren "
            "22,80 €. Kinder &lt; 6 Jahre brauchen keinen Ausweis.</p>"
            "<p>Schreiben Sie an <a href='mailto:post@beispiel.de'>post@beispiel.de</a> (A-2026-ABCD-EFGH).</p>"
            "<script>if (x) { render('{{ None }}'); }</script><template><p>TODO</p></template>"
            "<p hidden>Not Found</p><span aria-hidden='true'>&lt;p&gt;</span>"
            "<input type='hidden' name='csrf_token' value='None'><input type='password' value='XXX'>")
    assert readable.problems(page(main, outside="Not Found {{ x }}")) == []
    assert readable.visible_text(page(main)).startswith("Personalausweis beantragen Gebühr: 37,00 € – für")


def test_a_page_without_main_or_with_an_empty_main_is_a_problem() -> None:
    assert readable.problems("<html><body><p>Text</p></body></html>") == ["the page has no <main>"]
    assert readable.problems(page("<div> </div>")) == ["<main> holds no text"]
