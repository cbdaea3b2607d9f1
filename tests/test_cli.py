"""build.py as editors and CI use it: exit codes and what it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)


def test_check_passes_on_valid_content(content: Path) -> None:
    result = run("check", "--content", str(content))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "content OK: 5 services, 2 municipalities"


def test_check_lists_every_error_and_exits_1(content: Path) -> None:
    (content / "services/kindergeld.yaml").write_text("name: Kindergeld\nlevle: bund\n", encoding="utf-8")
    result = run("check", "--content", str(content))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert 'content/services/kindergeld.yaml:2: levle: unknown key; did you mean "level"?' in lines
    assert "content/services/kindergeld.yaml:1: teaser: required field is missing" in lines
    assert lines[-1].endswith("error(s); nothing was built.")


def test_build_writes_sites_and_a_summary_line_per_municipality(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("--content", str(content), "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = [line.split(":")[0] for line in result.stdout.splitlines() if "files (" in line]
    assert sorted(summary) == ["kreis", "stadt"]
    assert (out / "stadt" / "index.html").is_file()


def test_build_only_one_municipality(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("build", "--only", "kreis", "--content", str(content), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "kreis" / "index.html").is_file() and not (out / "stadt").exists()


def test_unknown_municipality_is_a_build_error(content: Path, tmp_path: Path) -> None:
    result = run("--only", "berlin", "--content", str(content), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip() == 'build failed: unknown municipality "berlin"; known: kreis, stadt'


def test_invalid_content_is_not_built(content: Path, tmp_path: Path) -> None:
    (content / "services/kindergeld.yaml").write_text("name: [kaputt\n", encoding="utf-8")
    result = run("--content", str(content), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    out = tmp_path / "out"
    assert not out.exists() or [p.name for p in out.iterdir()] == [".cache"]


def test_options_mean_the_same_before_and_after_the_command(content: Path) -> None:
    (content / "services" / "kindergeld.yaml").write_text("name: [kaputt\n", encoding="utf-8")
    before = run("--content", str(content), "check")
    after = run("check", "--content", str(content))
    assert before.returncode == after.returncode == 1
    assert "kindergeld.yaml:2: YAML syntax error" in before.stderr and before.stderr == after.stderr


def test_check_strict_reports_warnings_as_errors_at_their_file(content: Path) -> None:
    unit = content / "municipalities/stadt/units/buergeramt.yaml"
    unit.write_text(unit.read_text(encoding="utf-8").replace("locations: [rathaus]\n", ""), encoding="utf-8")
    relaxed = run("check", "--content", str(content))
    assert relaxed.returncode == 0, relaxed.stderr
    assert relaxed.stdout.strip() == "content OK: 5 services, 2 municipalities"
    strict = run("check", "--strict", "--content", str(content))
    assert strict.returncode == 1
    lines = strict.stderr.strip().splitlines()
    assert ("content/municipalities/stadt/municipality.yaml:10: offices: no office named for registry_office, "
            "road_traffic: those services show the general office") in lines
    assert ('content/municipalities/stadt/units/buergeramt.yaml:1: unit "buergeramt" is responsible for services '
            "but has neither a location nor a website: citizens do not see where to go") in lines
    assert lines[-1] == f"{len(lines) - 1} error(s); nothing was built."



def test_check_summarises_missing_sources_per_municipality_and_passes(content: Path) -> None:
    result = run("check", "--content", str(content))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "content OK: 5 services, 2 municipalities"
    lines = result.stderr.strip().splitlines()
    assert "  gemeinsame Leistungen: 4 Dateien ohne Quellenangabe" in lines
    assert ("  stadt: 3 Dateien ohne Quellenangabe, 1 Beispielperson mit echter Telefonnummer, 1 weitere Warnung"
            in lines)
    assert not any("buergerservice.yaml" in line for line in lines)  # no file by file without --verbose


def test_check_verbose_names_every_file_and_strict_fails_on_them(content: Path) -> None:
    verbose = run("check", "--verbose", "--content", str(content))
    assert verbose.returncode == 0, verbose.stderr
    assert ("content/municipalities/stadt/units/buergerservice.yaml:1: no sources (quellen): say where the facts of "
            "this file come from, or mark it as an example (beispiel: true) (warning)") in verbose.stderr.splitlines()
    strict = run("check", "--strict", "--content", str(content))
    assert strict.returncode == 1
    assert ("content/municipalities/stadt/units/buergerservice.yaml:1: no sources (quellen): say where the facts of "
            "this file come from, or mark it as an example (beispiel: true)") in strict.stderr.splitlines()


def test_check_takes_the_allowed_age_of_a_check_date(content: Path) -> None:
    unit = content / "municipalities/stadt/units/buergerservice.yaml"
    unit.write_text(unit.read_text(encoding="utf-8") + "quellen:\n  - url: https://www.example.org/a\n    titel: Quelle"
                    "\n    abgerufen: 2020-01-01\ngeprueft_am: 2020-01-01\n", encoding="utf-8")
    result = run("check", "--content", str(content))
    assert "stadt: 2 Dateien ohne Quellenangabe, 1 Datei seit mehr als 12 Monaten nicht geprüft" in result.stderr
    result = run("check", "--max-age-months", "1200", "--content", str(content))
    assert "nicht geprüft" not in result.stderr


def test_bericht_reports_sources_examples_and_gaps_per_municipality(content: Path) -> None:
    result = run("bericht", "--content", str(content))
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert "Stadt Beispielstadt (stadt)" in out and "Kreis Beispiel (kreis)" in out
    stadt = out[out.index("Stadt Beispielstadt (stadt)"):]
    assert "  Dateien mit Quellenangabe: 2 von 5" in stadt
    assert "  Felder mit Beispielangaben: 1: rathaus: transport" in stadt
    assert any(line.startswith("  Leistungen ohne LeiKa-Schlüssel: 3 von 5: fahrzeug-zulassen") for line in stadt)
    assert any(line.startswith("  Leistungen ohne Text in Leichter Sprache: 5 von 5") for line in stadt)
    assert "  Leistungen, deren zuständige Stelle keine Öffnungszeiten zeigt: 0 von 5" in stadt
    only = run("bericht", "--only", "stadt", "--content", str(content))
    assert only.returncode == 0 and "(kreis)" not in only.stdout and "(stadt)" in only.stdout
    assert run("bericht", "--only", "nirgendwo", "--content", str(content)).returncode == 1


def test_bericht_is_in_the_help() -> None:
    result = run("--help")
    assert "bericht" in result.stdout
