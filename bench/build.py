#!/usr/bin/env python3
"""Benchmark the site build on a synthetic knowledge base and print the figures.

    python bench/build.py [--services 2000]

Measures, in one run and as whole processes (start-up included), for N shared services
in four municipalities:
  1. a full build (`build.py` into an empty folder): seconds and pages per second;
  2. a rebuild after one service file changed: the first one after a full build, the
     steady state (both output buffers exist), and inside a running `build.py serve`
     (which keeps parsed content in memory), each the median of three changes;
  3. baseline A: a bare loop over the same pages and templates with plain Jinja2 in one
     process (no Pelican, no incremental or atomic machinery);
  4. baseline B: Hugo (Debian's package, installed when missing) over an equivalent
     layout of the same pages.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
ROUNDS = 3
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def timed(command: list[str], **kwargs: object) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - started


def count_pages(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.html"))


def bare_loop(content: Path, out: Path) -> None:
    """Baseline A: the same pages and templates, rendered by plain Jinja2 in one process."""
    import datetime as dt

    from jinja2 import FileSystemLoader

    from generator.load import load_content
    from generator.pages import build_pages, site_info
    from generator.pipeline import THEME
    from generator.resolve import resolve
    from generator.validate import validate
    from portal.theme import make_environment

    raw, _ = load_content(content)
    valid, _ = validate(raw)
    env = make_environment(FileSystemLoader(str(THEME / "templates")))
    for slug, catalog in resolve(valid).items():
        site = site_info(catalog, "http://127.0.0.1:8000")
        for page in build_pages(catalog, "http://127.0.0.1:8000", dt.date.today()):
            html = env.get_template(page.template + ".html").render(
                PORTAL_SITE=site, page_path=page.path, news=[], **page.build())
            target = out / slug / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")


def warm_rebuilds(content: Path, out: Path) -> None:
    """In one process, as `build.py serve` does: print the median time of three rebuilds
    after one service file changed."""
    from generator.load import ParseCache
    from generator.pipeline import build

    cache = ParseCache(None)
    for _ in range(2):
        build(content, out, cache=cache, show_progress=False)
    times = []
    for index in (5, 6, 7):
        path = content / "services" / f"leistung-{index:05d}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("teaser: ", "teaser: Warm ", 1), encoding="utf-8")
        started = time.perf_counter()
        build(content, out, cache=cache, show_progress=False)
        times.append(time.perf_counter() - started)
    print(statistics.median(times))


def ensure_hugo() -> str:
    hugo = shutil.which("hugo")
    if hugo:
        return hugo
    print("installing Debian's hugo …", file=sys.stderr)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "hugo"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("hugo") or "hugo"


HUGO_BASE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ .Title }} – {{ .Params.site }}</title><link rel="stylesheet" href="/theme/css/site.css"></head>
<body><a class="skip-link" href="#inhalt">Zum Inhalt springen</a>
<header class="site-header"><div class="wrap"><a class="brand" href="/">{{ .Params.site }}</a>
<nav aria-label="Hauptnavigation"><ul><li><a href="leistungen/">Leistungen</a></li><li><a href="a-z/">A–Z</a></li></ul></nav></div></header>
<nav class="breadcrumbs" aria-label="Sie sind hier"><ol><li><a href="/">Startseite</a></li><li>{{ .Title }}</li></ol></nav>
<main id="inhalt">{{ block "main" . }}{{ end }}</main>
<footer class="site-footer"><ul><li><a href="impressum/">Impressum</a></li><li><a href="datenschutz/">Datenschutz</a></li></ul></footer>
</body></html>
"""
HUGO_SINGLE = """{{ define "main" }}<article class="service"><h1>{{ .Title }}</h1><p class="lead">{{ .Params.teaser }}</p>
<section><h2>Beschreibung</h2>{{ .Content }}</section>
{{ with .Params.prerequisites }}<section><h2>Voraussetzungen</h2><ul>{{ range . }}<li>{{ . }}</li>{{ end }}</ul></section>{{ end }}
{{ with .Params.documents }}<section><h2>Unterlagen</h2><ul>{{ range . }}<li>{{ . }}</li>{{ end }}</ul></section>{{ end }}
{{ with .Params.fees }}<section><h2>Kosten</h2><table><tbody>{{ range . }}<tr><th>{{ .label }}</th><td>{{ .amount }} €</td></tr>{{ end }}</tbody></table></section>{{ end }}
{{ with .Params.procedure }}<section><h2>Ablauf</h2><ol>{{ range . }}<li>{{ . }}</li>{{ end }}</ol></section>{{ end }}
{{ with .Params.offices }}<section><h2>Zuständige Stelle</h2><ul>{{ range . }}<li><details><summary>{{ .town }}</summary><p>{{ .unit }}</p></details></li>{{ end }}</ul></section>{{ end }}
</article>{{ end }}
"""
HUGO_LIST = """{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}
"""


def hugo_project(content: Path, dest: Path) -> Path:
    """An equivalent Hugo site: every service page of every municipality, with its offices."""
    import json

    from generator.pipeline import check
    from generator.resolve import resolve

    shutil.rmtree(dest, ignore_errors=True)
    (dest / "layouts" / "_default").mkdir(parents=True)
    (dest / "layouts" / "_default" / "baseof.html").write_text(HUGO_BASE, encoding="utf-8")
    (dest / "layouts" / "_default" / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (dest / "layouts" / "_default" / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    (dest / "hugo.toml").write_text('baseURL = "http://127.0.0.1:8000/"\nlanguageCode = "de"\ntitle = "Bench"\n'
                                    'disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT"]\n', encoding="utf-8")
    for slug, catalog in resolve(check(content)).items():
        folder = dest / "content" / slug / "leistungen"
        folder.mkdir(parents=True)
        (dest / "content" / slug / "_index.md").write_text(json.dumps({"title": catalog.municipality.name}) + "\n",
                                                           encoding="utf-8")
        for sid, entry in catalog.services.items():
            s = entry.service
            front = {"title": s.name, "site": catalog.municipality.name, "teaser": s.teaser,
                     "prerequisites": s.prerequisites, "documents": s.documents, "procedure": s.procedure,
                     "fees": [{"label": f.label, "amount": f.amount} for f in entry.fees],
                     "offices": [{"town": r.town.name if r.town else "", "unit": catalog.units[r.unit_id].name}
                                 for r in entry.responsibilities]}
            (folder / f"{sid}.md").write_text(json.dumps(front, ensure_ascii=False) + "\n\n" + s.description,
                                              encoding="utf-8")
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--bare-loop", nargs=2, metavar=("CONTENT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--warm", nargs=2, metavar=("CONTENT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_loop:
        bare_loop(Path(args.bare_loop[0]), Path(args.bare_loop[1]))
        return
    if args.warm:
        warm_rebuilds(Path(args.warm[0]), Path(args.warm[1]))
        return

    from synthetic import make_content

    python = sys.executable
    content = make_content(WORK / "content", services=args.services)
    out = WORK / "out"
    shutil.rmtree(out, ignore_errors=True)
    build = [python, str(ROOT / "build.py"), "--content", str(content), "--out", str(out)]
    print(f"synthetic knowledge base: {args.services} services × 4 municipalities, {os.cpu_count()} cores")

    hugo = ensure_hugo()
    project = hugo_project(content, WORK / "hugo")
    hugo_out, bare_out = WORK / "hugo-out", WORK / "bare"

    # This machine is noisy: the three full builds run interleaved, three rounds, medians.
    fulls, bares, hugos = [], [], []
    for _ in range(ROUNDS):
        for folder in (out, bare_out, hugo_out):
            shutil.rmtree(folder, ignore_errors=True)
        fulls.append(timed(build))
        bares.append(timed([python, __file__, "--bare-loop", str(content), str(bare_out)]))
        hugos.append(timed([hugo, "--quiet", "-s", str(project), "-d", str(hugo_out)], stderr=subprocess.DEVNULL))
    full, bare, hugo_time = (statistics.median(x) for x in (fulls, bares, hugos))
    pages = count_pages(out)
    print(f"full build:               {full:6.2f} s  {pages} pages  {pages / full:7.0f} pages/s  (median of {ROUNDS})")
    print(f"baseline bare Jinja2 loop:{bare:6.2f} s  {count_pages(bare_out)} pages  -> full build = {full / bare:.2f}× this")
    print(f"baseline Hugo:            {hugo_time:6.2f} s  {count_pages(hugo_out)} pages  -> full build = {full / hugo_time:.2f}× this")

    def change(index: int) -> float:
        path = content / "services" / f"leistung-{index:05d}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("teaser: ", "teaser: Geändert ", 1), encoding="utf-8")
        return timed(build)

    first = change(1)
    steady = statistics.median(change(i) for i in (2, 3, 4))
    warm = float(subprocess.run([python, __file__, "--warm", str(content), str(out)], check=True,
                                capture_output=True, text=True).stdout.split()[-1])
    print(f"one file changed (first): {first:6.2f} s")
    print(f"one file changed (steady):{steady:6.2f} s  (median of 3) -> {steady / hugo_time:.2f}× Hugo's full build")
    print(f"one file changed (serve): {warm:6.2f} s  (inside build.py serve, median of 3) -> {warm / hugo_time:.2f}× Hugo's full build")


if __name__ == "__main__":
    main()
