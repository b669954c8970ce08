"""French outputs (issue 27, ``--lang fr|en``).

One catalogue (:mod:`optimizer.i18n`) puts the files, the summary's
sentences, the console's lines and the maps into French. Checked here:

- the catalogue is complete: every reason, warning and sentence the code
  holds has a French text with the same placeholders;
- for each mode (plain, ``--select``, ``--select-by commute``, ``--max-open``,
  ``--minimax``, ``--dedicated-desks``, ``--previous``) a French run writes the
  English run's plan, every header, coded value and sentence put into French,
  and no English left in its files or console lines;
- ``--previous`` reads a French ``allocation.csv`` back (the same re-plan as
  the English round trip), also as French Excel saves it (``;``, cp1252);
- the language comes from the locale when not given.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import datasets
from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.i18n import (
    COLUMNS,
    MESSAGES,
    VALUES,
    delocalise_table,
    knows,
    resolve_lang,
    translate,
)
from optimizer.model import explain as explain_module
from optimizer.replan import read_previous_allocation

MODES: dict[str, list[str]] = {
    "plain": [],
    "select": ["--select", "30"],
    "select_commute": ["--select", "30", "--select-by", "commute"],
    "max_open": ["--max-open", "2"],
    "minimax": ["--minimax"],
    "dedicated": ["--dedicated-desks"],
}
TEXT_COLUMNS = ("reason", "explanation", "note", "why")
#: Words of the English sentences that no French file or console line may hold.
ENGLISH = re.compile(
    r"\b(the|saves?|would|assigned|capacity full|not opened|not selected|left out|desks?|"
    r"telecentres?|head office|WARNING|Wrote|Ties|placed|minutes saved|round trip|next best|"
    r"no saving|too far|tie lost|decided by|weekdays?)\b"
)


def _english(text: str) -> re.Match[str] | None:
    """English words in ``text``, options (``--telecentres``, ``--select-by commute``) aside."""
    return ENGLISH.search(re.sub(r"--[a-z-]+( commute)?", "", text))


FILES = ("allocation.csv", "telecentres.csv", "travel_times.csv", "ranking.csv", "schedule.csv")


# ----------------------------------------------------------------------------- the catalogue


def _fields(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_every_message_has_french_with_the_same_placeholders():
    for english, french in MESSAGES.items():
        assert french.strip(), english
        assert _fields(english) == _fields(french), english
    assert all(v.strip() for v in COLUMNS.values())
    assert len(set(COLUMNS.values())) == len(COLUMNS)  # read back one way only
    assert all(v.strip() for v in VALUES.values())


def _code_reasons() -> dict[str, str]:
    """Every reason constant of the code, placeholders filled as the code fills them."""
    from optimizer import pipeline, report, ties, travel
    from optimizer.national import plan as national_plan
    from optimizer.national import travel as national_travel

    sample = {"rule": "--max-open 2", "nearest": "T-01", "select": "20", "longest": "38.5"}
    sample["count"] = "17"
    found = {}
    modules = (explain_module, pipeline, travel, ties, report, national_plan, national_travel)
    for module in modules:
        for name, value in vars(module).items():
            if (name.startswith("REASON_") or name.endswith("_WARNING")) and isinstance(value, str):
                found[f"{module.__name__}.{name}"] = value.format(**sample)
    found["ties.TIE_RULE"] = ties.TIE_RULE
    for rule in ties.DECIDED_BY:
        found[f"tie_reason.{rule}"] = ties.tie_reason("A-07", rule, 2015)
    for key, text in report.OBJECTIVE_TEXT.items():
        found[f"objective.{key}"] = text
    return found


def test_every_reason_of_the_code_is_in_the_catalogue():
    reasons = _code_reasons()
    assert len(reasons) >= 25  # explain, pipeline, travel, ties, report: all found
    for where, text in reasons.items():
        assert knows(text), f"{where}: no French for {text!r}"
        french = translate(text, "fr")
        assert not _english(french), (where, french)


def test_reasons_with_figures_are_patterns():
    text = "left out by --minimax: to keep the longest drive at 1,234.5 min; every telecentre that "
    french = translate(text + "would save it time is further", "fr")
    assert "1\u202f234,5 min" in french
    assert french.startswith("écarté par --minimax")
    tie = translate(
        "tie lost to A-7: an equal (it could take the same desks on the same weekdays for the "
        "same saving); decided by the draw (seed 99)",
        "fr",
    )
    assert tie.startswith("égalité perdue face à A-7 :") and tie.endswith("(graine 99)")
    assert translate("capacity full: something new", "fr") == "capacity full: something new"
    assert translate("anything", "en") == "anything"


def test_every_column_of_the_code_has_a_french_name():
    from optimizer.replan import CHANGES_COLUMNS
    from optimizer.report import BENEFIT_COLUMNS

    frontier = ["max_minutes", "longest_drive", "assigned", "objective"]  # fairness.frontier
    robustness = ["plan_holds", "scenarios_same", "scenarios_twin_swap", "saving_week_low"]
    for column in [*BENEFIT_COLUMNS, *CHANGES_COLUMNS, *frontier, *robustness]:
        assert column in COLUMNS, column


def test_roster_warnings_in_french(tmp_path):
    from optimizer.inputs import read_agents

    roster = tmp_path / "agents.csv"
    roster.write_text(
        "agent_id,lon,lat,telework_days,colour,size\nA1,3.5,44.5,1,red,4\n", encoding="utf-8"
    )
    warnings = read_agents(roster).attrs["warnings"]
    assert warnings
    for warning in warnings:
        french = translate(f"WARNING: {warning}", "fr")
        assert french.startswith("ATTENTION : ") and "2 colonnes non lue(s)" in french
        assert not _english(french), french


def test_replan_warnings_in_french():
    from optimizer.replan import no_match_warning

    previous = pd.DataFrame({"agent_id": ["Z9"], "telecentre_id": ["T1"]})
    for prev in (previous, previous.assign(agent_id=["P0123456789ab"])):
        warning = no_match_warning(prev, ["A1", "A2"], "old/allocation.csv")
        french = translate(f"WARNING: {warning}", "fr")
        assert knows(warning) and "aucun identifiant" in french, french
        assert not _english(french.replace("--pseudonymise SALT", "")), french


def test_speed_uncertainty_line_in_french():
    line = (  # as optimizer.cli writes it
        "Drive times 10 % off (6 scenarios): 15 of 19 assigned agents keep their telecentre in "
        "every scenario (14 themselves, 1 by a tie: an identical twin, same home, days and "
        "rules, takes their place), 4 change it as drive times change; the plan saves 2,100 "
        "to 2,450 minutes a week."
    )
    french = translate(line, "fr")
    assert knows(line) and not _english(french), french
    assert "19 agents affectés" in french and "2\u202f100" in french


def test_language_from_the_locale():
    assert resolve_lang(None, {"LANG": "fr_FR.UTF-8"}) == "fr"
    assert resolve_lang(None, {"LANG": "fr_FR.UTF-8", "LC_ALL": "C.UTF-8"}) == "en"
    assert resolve_lang(None, {"LC_MESSAGES": "fr_BE", "LANG": "en_GB"}) == "fr"
    assert resolve_lang(None, {"LANG": "de_DE.UTF-8"}) == "en"
    assert resolve_lang(None, {}) == "en"
    assert resolve_lang("FR", {"LANG": "en_US"}) == "fr"
    with pytest.raises(InputError, match="language"):
        resolve_lang("de")


def test_previous_headers_and_values_read_back():
    french = pd.DataFrame(
        {
            "identifiant_agent": ["A1", "A2"],
            "statut": ["affecté", "non affecté"],
            "identifiant_télécentre": ["T1", ""],
            "jours": ["lundi|vendredi", ""],
        }
    )
    back = delocalise_table(french)
    assert list(back.columns) == ["agent_id", "status", "telecentre_id", "weekdays"]
    assert back["status"].tolist() == ["assigned", "not_assigned"]
    assert back["weekdays"].tolist() == ["mon|fri", ""]


# ----------------------------------------------------------------------------- the runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("lang")
    roster = folder / "agents.csv"
    datasets.agents()[["agent_id", "lon", "lat", "telework_days", "commune"]].head(40).to_csv(
        roster, index=False
    )
    centres = folder / "telecentres.csv"
    datasets.telecentres().assign(capacity=1).to_csv(centres, index=False)
    out: dict[str, Any] = {"folder": folder}

    def invoke(name: str, args: list[str], env: dict[str, str | None]) -> tuple[Path, str]:
        target = folder / name
        maps = [] if name.endswith("plain") else ["--no-maps"]
        result = CliRunner(env=env).invoke(
            main,
            [
                *("--agents", str(roster), "--telecentres", str(centres)),
                # a time limit far beyond the solve: both languages' plans proven optimal
                *("--out", str(target), "--rank", "3", "--time-limit", "1800", *maps, *args),
            ],
        )
        assert result.exit_code == 0, result.output
        return target, result.stdout

    no_locale: dict[str, str | None] = {"LC_ALL": None, "LC_MESSAGES": None}
    for mode, args in MODES.items():
        # plain: the language from the locale; the others: --lang
        en_args = args if mode == "plain" else [*args, "--lang", "en"]
        fr_args = args if mode == "plain" else [*args, "--lang", "fr"]
        if mode == "dedicated":  # French Excel's CSV files
            fr_args = [*fr_args, "--csv-style", "excel-fr"]
        out[("en", mode)] = invoke(f"en_{mode}", en_args, {**no_locale, "LANG": "en_US.UTF-8"})
        out[("fr", mode)] = invoke(f"fr_{mode}", fr_args, {**no_locale, "LANG": "fr_FR.UTF-8"})
    for lang in ("en", "fr"):
        previous = out[(lang, "plain")][0] / "allocation.csv"
        out[(lang, "previous")] = invoke(
            f"{lang}_previous",
            ["--previous", str(previous), "--max-open", "3", "--lang", lang],
            {**no_locale, "LANG": "C"},
        )
    return out


def _read(path: Path) -> pd.DataFrame:
    """A table written by the tool: blanks empty in text columns, missing in numbers."""
    excel = path.read_bytes()[:3] == b"\xef\xbb\xbf"  # excel-fr
    table = pd.read_csv(
        path,
        keep_default_na=False,
        na_values=[""],
        **({"sep": ";", "decimal": ",", "encoding": "utf-8-sig"} if excel else {}),
    )
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    return table.fillna(dict.fromkeys(text, ""))


ALL_MODES = [*MODES, "previous"]


@pytest.mark.parametrize("mode", ALL_MODES)
def test_french_files_are_the_english_files_in_french(runs, mode):
    en_dir, fr_dir = runs[("en", mode)][0], runs[("fr", mode)][0]
    names = [*FILES, *(["changes.csv"] if mode == "previous" else [])]
    for name in names:
        english, french = _read(en_dir / name), _read(fr_dir / name)
        assert list(french.columns) == [COLUMNS[c] for c in english.columns], name
        french.columns = english.columns
        for column in english.columns:
            en_col, fr_col = english[column], french[column]
            if pd.api.types.is_numeric_dtype(en_col):
                pd.testing.assert_series_equal(en_col, fr_col, check_dtype=False, obj=column)
            elif column in TEXT_COLUMNS:
                for e, f in zip(en_col, fr_col, strict=True):
                    assert not e or knows(e), f"{name} {column}: no French for {e!r}"
                    assert f == translate(e, "fr")
                    assert not _english(f), f"{name} {column}: {f!r}"
            elif column in ("status", "weekday", "change", "location", "open"):
                assert fr_col.tolist() == [VALUES.get(v, v) for v in en_col], column
                assert not set(fr_col) & (set(VALUES) - {"commune"}), column
            elif column in ("weekdays", "previous_weekdays"):
                back = ["|".join(VALUES.get(d, d) for d in v.split("|")) for v in en_col]
                assert fr_col.tolist() == back, column
            elif column == "communes":
                assert fr_col.str.replace("autres communes", "other communes").tolist() == (
                    en_col.tolist()
                )
            else:  # ids and names: as given
                assert fr_col.tolist() == en_col.tolist(), column


@pytest.mark.parametrize("mode", ALL_MODES)
def test_french_summary_and_console(runs, mode):
    (en_dir, en_out), (fr_dir, fr_out) = runs[("en", mode)], runs[("fr", mode)]
    english = json.loads((en_dir / "summary.json").read_text(encoding="utf-8"))
    french = json.loads((fr_dir / "summary.json").read_text(encoding="utf-8"))
    assert english["language"] == "en" and french["language"] == "fr"

    def texts(info: Any, path: str = "") -> dict[str, Any]:
        if isinstance(info, dict):
            return {k: v for key, x in info.items() for k, v in texts(x, f"{path}.{key}").items()}
        if isinstance(info, list):
            return {k: v for i, x in enumerate(info) for k, v in texts(x, f"{path}[{i}]").items()}
        return {path: info}

    en_texts, fr_texts = texts(english), texts(french)
    # the keys stay (timings aside: the first run may prepare the network, the next read it)
    assert {k for k in en_texts if ".timings_s." not in k} == {
        k for k in fr_texts if ".timings_s." not in k
    }
    for key, value in en_texts.items():
        if key.endswith(("language", "_s", "_file", "files", "previous_file")) or "timings" in key:
            continue
        if isinstance(value, str) and " " in value and knows(value):
            assert fr_texts[key] == translate(value, "fr"), key
            assert not _english(fr_texts[key]), (key, fr_texts[key])
    assert english["solver"]["status"] == "optimal" == french["solver"]["status"]
    for key in (".solver.objective", ".options.capacity_policy", ".network.warning"):
        assert fr_texts[key] != en_texts[key], key
    # the console: every line of the English run's result put into French
    en_lines, fr_lines = en_out.splitlines(), fr_out.splitlines()
    assert len(en_lines) == len(fr_lines)
    for e, f in zip(en_lines, fr_lines, strict=True):
        if e.startswith("Wrote "):
            assert f.startswith("Écrit ")
        elif e.startswith("Re-plan from "):  # each from its own plain run
            assert f == translate(e.replace("/en_plain/", "/fr_plain/"), "fr")
        elif re.match(r"\s+(rank|\d+)\s", e):  # the ranking's rows: ids and figures
            assert f.split() == e.split() or f.split()[0] == "rang"
        else:
            assert knows(e), f"no French for the console line {e!r}"
            assert f == translate(e, "fr")
            assert not _english(f), f


def test_french_maps(runs):
    en_dir, fr_dir = runs[("en", "plain")][0], runs[("fr", "plain")][0]
    page = (fr_dir / "map.html").read_text(encoding="utf-8")
    assert "Légende" in page and "siège" in page and "agents par commune" in page
    assert "Legend" not in page and "head office" not in page
    assert "Legend" in (en_dir / "map.html").read_text(encoding="utf-8")
    assert (fr_dir / "map.png").read_bytes() != (en_dir / "map.png").read_bytes()


def test_previous_reads_french_back(runs):
    """A French run, then --previous on its allocation: the English round trip's plan."""
    en_dir, fr_dir = runs[("en", "plain")][0], runs[("fr", "plain")][0]
    english = read_previous_allocation(en_dir / "allocation.csv")
    french = read_previous_allocation(fr_dir / "allocation.csv")
    pd.testing.assert_frame_equal(english, french)
    assert french.attrs == english.attrs and french.attrs["weekdays_known"]
    assert (french["telecentre_id"] != "").sum() > 0
    en_prev, fr_prev = runs[("en", "previous")][0], runs[("fr", "previous")][0]
    for name in ("allocation.csv", "schedule.csv", "changes.csv"):
        a = _read(en_prev / name)
        b = delocalise_table(_read(fr_prev / name))
        keep = [c for c in ("agent_id", "status", "telecentre_id", "weekday", "change") if c in a]
        keep += [c for c in ("previous_weekdays", "weekdays") if c in a]
        pd.testing.assert_frame_equal(a[keep], b[keep], obj=name)
    assert len(_read(en_prev / "changes.csv")) > 0  # the re-plan moved agents


def test_excel_fr_keeps_the_french_words(runs):
    """--csv-style excel-fr --lang fr: ';', decimal commas, a BOM, é è à intact, read back."""
    folder = runs[("fr", "dedicated")][0]
    raw = (folder / "allocation.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert header.startswith("identifiant_agent;statut;identifiant_télécentre;")
    assert re.search(r";\d+,\d+;", text)  # decimal commas
    assert "non affecté" in text
    every = "".join(
        (folder / n).read_bytes().decode("utf-8-sig") for n in ("allocation.csv", "schedule.csv")
    )
    for letter in "éèà":
        assert letter in every, letter
    # as French Excel saves it again: cp1252, ';'
    again = runs["folder"] / "excel_saved"
    again.mkdir()
    for name in ("allocation.csv", "schedule.csv", "telecentres.csv"):
        content = (folder / name).read_bytes().decode("utf-8-sig")
        (again / name).write_bytes(content.encode("cp1252"))
        assert (again / name).read_bytes().decode("cp1252") == content  # é è à survive
    read = read_previous_allocation(again / "allocation.csv")
    same = read_previous_allocation(folder / "allocation.csv")
    pd.testing.assert_frame_equal(read, same)
    assert read.attrs == same.attrs and read.attrs["weekdays_known"]
    english = read_previous_allocation(runs[("en", "dedicated")][0] / "allocation.csv")
    pd.testing.assert_frame_equal(read, english)


def test_unknown_language_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["--lang", "de", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "--lang" in result.output
