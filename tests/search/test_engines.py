"""The browser script and `build.py search` give the same answers from the same files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from search_index.analysis import compound_parts, fold, stem, terms
from search_index.query import Index, distance

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
QUERIES = yaml.safe_load((HERE / "queries.yaml").read_text(encoding="utf-8"))
EXTRA = ["", "   ", "die der das", "12", "Bürgerbüro", "straße", "STRASSE", "öffnungszeiten",
         "führerscheinumtausch", "parkausweisantrag", "xyz",
         # best bets, alone, with a place, in another order and spelling
         "umzug", "Auto anmelden", "anmelden auto", "perso", "termin", "heiraten", "Geburt",
         "personalausweis dülmen", "reisepass ahlen", "ahlen reisepass", "auto anmelden beckum",
         "personalausweis kreis coesfeld", "personalausweis münster", "dülmen", "hundesteuer",
         # what an attacker types: odd words, control characters, punctuation, huge input
         "constructor", "perso constructor", "__proto__ tostring hasownproperty valueof", "perso\x00\u202everloren\x07",
         "\u200b\ufeff", "?!?!…;:„“", "ausweis" * 40, "perso " * 2000, "😀 reisepass 😀" * 30]


def python_results(folder: Path, queries: list[str]) -> list[list[list[str]]]:
    index = Index.from_folder(folder)
    return [[[h.kind, h.title, h.url, index.best_snippet(h, q), h.best,
              [h.office.town, h.office.name, h.office.url, h.office.address] if h.office else None]
             for h in index.search(q, limit=10)] for q in queries]


@pytest.mark.parametrize("site", ["muenster", "kreis-coesfeld", "kreis-warendorf"])
def test_browser_engine_ranks_exactly_like_the_python_engine(real_output: Path, site: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the browser's search engine in this test")
    queries = [q["query"] for q in QUERIES if q["site"] == site] + EXTRA
    folder = real_output / site / "suche"
    result = subprocess.run([node, str(HERE / "run_search.js"), str(folder)], input=json.dumps(queries),
                            capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout) == python_results(folder, queries)


def test_snippet_shows_the_sentence_that_matched(real_output: Path) -> None:
    index = Index.from_folder(real_output / "muenster" / "suche")
    hit = index.search("wohnungsgeberbestätigung", limit=1)[0]
    assert hit.url == "/muenster/leistungen/wohnsitz-anmelden/"
    assert "Wohnungsgeberbestätigung" in index.best_snippet(hit, "wohnungsgeberbestätigung")
    assert "Wohnungsgeberbestätigung" not in hit.snippet  # the teaser does not mention it


def test_folding_spells_out_umlauts_and_sharp_s() -> None:
    assert fold("Straße Übergröße Café") == "strasse uebergroesse cafe"


def test_stemming_joins_inflected_forms() -> None:
    assert stem("ausweise") == stem("ausweis") == "ausweis"
    assert terms("Genehmigung zum Fällen eines Baumes") == ["genehmigung", "faell", "baum"]
    assert terms("wer ist zuständig für baum fällen") == ["baum", "faell"]


def test_compounds_yield_the_known_words_they_end_with() -> None:
    assert list(compound_parts("bewohnerparkausweis", {"parkausweis", "ausweis", "bewohner"})) == [
        "parkausweis", "ausweis"]


def test_typo_distance_counts_swaps_as_one() -> None:
    assert distance("fuehrerschein", "fuererschein", 2) == 1
    assert distance("ausweis", "ausewis", 2) == 1
    assert distance("ausweis", "zulassung", 2) == 3


def test_build_py_search_prints_kind_title_and_url(real_output: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "search", "muenster", "perso verloren",
                             "--out", str(real_output), "--limit", "2"], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        "service\tVerlust oder Diebstahl von Ausweis oder Pass melden\t/muenster/leistungen/ausweis-verlust-melden/",
        "service\tPersonalausweis beantragen\t/muenster/leistungen/personalausweis-beantragen/",
    ]


def test_build_py_search_without_an_index_says_how_to_make_one(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "search", "muenster", "perso",
                             "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "build the site first (python build.py --only muenster)" in result.stderr


def test_both_engines_clean_a_query_and_word_its_status_alike() -> None:
    """What is searched for and the status line above the results: query.clean and
    dynamic.search.status_text against clean and statusText of search.js."""
    from dynamic.search import status_text
    from search_index.query import clean

    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the browser's search engine in this test")
    texts = ["  perso  ", "perso\x00\x01\x1b[31m\x7f\x85weg", "\u202eperso\u200b\ufeff\u2028x", "a\u00a0b\u3000c",
             "ä" * 250, "😀" * 201, "x" * 199 + " y", "perso " * 1_700, "\t\n", "?!"]
    script = """
      require(process.argv[1]);
      const s = globalThis.BuergerportalSearch, texts = JSON.parse(require("fs").readFileSync(0, "utf-8"));
      process.stdout.write(JSON.stringify(texts.map((t) => { const c = s.clean(t);
        return [c.query, c.cut, s.statusText(c.query, 0, c.cut), s.statusText(c.query, 1, false),
                s.statusText(c.query, 7, c.cut)]; })));
    """
    result = subprocess.run([node, "-e", script, str(ROOT / "site_templates" / "static" / "js" / "search.js")],
                            input=json.dumps(texts), capture_output=True, text=True, timeout=60, check=True)
    expected = []
    for text in texts:
        query, cut = clean(text)
        expected.append([query, cut, status_text(query, 0, cut), status_text(query, 1), status_text(query, 7, cut)])
    assert json.loads(result.stdout) == expected
    assert clean("perso " * 1_700)[1] and len(clean("perso " * 1_700)[0]) <= 200
