"""Agents given by commune: names, INSEE codes, postcodes, homonyms, mixed rosters."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import datasets, run
from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.inputs import read_agents
from optimizer.places import PlaceError, find_commune, normalise_name
from optimizer.report import allocation_table

# official name, as a roster may write it
NAMES = {
    "Langogne": "LANGOGNE",
    "Châteauneuf-de-Randon": "Chateauneuf de Randon",
    "Saint-Chély-d'Apcher": "st chely d'apcher",
    "Le Malzieu-Ville": "Malzieu Ville",
    "Meyrueis": "meyrueis",
    "Florac Trois Rivières": "Florac-Trois-Rivieres",
    "Marvejols": "MARVEJOLS",
    "Mende": "mende",
}
# the Lozère communes whose postcode is theirs alone
BY_POSTCODE = {"Peyre en Aubrac": "48130", "Saint-Germain-de-Calberte": "48370"}


def _roster(values: list[str], column: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agent_id": [f"A{i}" for i in range(len(values))],
            column: values,
            "telework_days": [1 + i % 2 for i in range(len(values))],
        }
    )


def _plan(agents: pd.DataFrame, lozere_network) -> pd.DataFrame:
    result = run(agents, datasets.telecentres(), datasets.head_office(), lozere_network)
    table = allocation_table(result)
    return table[["agent_id", "status", "telecentre_id", "minutes_saved_per_day"]]


def test_names_codes_postcodes_and_town_hall_coordinates_give_one_plan(lozere_network) -> None:
    official = [*NAMES, *BY_POSTCODE]
    communes = [find_commune(name=n) for n in official]
    assert [c.name for c in communes] == official
    by_coordinates = _roster([""] * len(official), "commune").drop(columns="commune")
    by_coordinates["lon"] = [c.lon for c in communes]
    by_coordinates["lat"] = [c.lat for c in communes]
    rosters = {
        "coordinates": by_coordinates,
        "names": _roster([*NAMES.values(), *BY_POSTCODE], "commune"),
        "insee": _roster([c.insee for c in communes], "code_insee"),
        "insee as a number": _roster([c.insee.lstrip("0") for c in communes], "code_commune"),
    }
    plans = {k: _plan(read_agents(v), lozere_network) for k, v in rosters.items()}
    reference = plans.pop("coordinates")
    assert (reference["status"] == "assigned").sum() >= 3  # the comparison says something
    for name, plan in plans.items():
        pd.testing.assert_frame_equal(plan, reference, obj=name)
    # postcodes: only where the postcode is one commune's
    post = _roster(list(BY_POSTCODE.values()), "code_postal")
    named = _roster(list(BY_POSTCODE), "commune")
    pd.testing.assert_frame_equal(
        _plan(read_agents(post), lozere_network), _plan(read_agents(named), lozere_network)
    )


def test_commune_rows_are_flagged_with_their_precision(lozere_network) -> None:
    agents = read_agents(
        pd.DataFrame(
            {
                "agent_id": ["home", "town"],
                "lon": ["3.60", ""],
                "lat": ["44.50", ""],
                "commune": ["", "Langogne"],
            }
        )
    )
    assert agents["location"].tolist() == ["coordinates", "commune"]
    assert agents.loc[1, "commune"] == "Langogne" and agents.loc[1, "insee"] == "48080"
    table = allocation_table(
        run(agents, datasets.telecentres(), datasets.head_office(), lozere_network)
    )
    assert table["location"].tolist() == ["coordinates", "commune"]
    assert pd.isna(table.loc[0, "location_precision_m"])
    assert 1_000 < table.loc[1, "location_precision_m"] < 20_000  # Langogne's extent


def test_names_match_without_accents_case_hyphens_or_article() -> None:
    assert normalise_name("Châteauneuf-de-Randon") == normalise_name("CHATEAUNEUF DE RANDON")
    assert find_commune(name="Chateauneuf de Randon").insee == "48043"
    assert find_commune(name="malzieu-ville").name == "Le Malzieu-Ville"
    assert find_commune(name="Ste-Enimie").insee == find_commune(name="Sainte-Enimie").insee


def test_postcodes_and_codes_as_typed_with_a_space() -> None:
    # "48 000", as the number is often typed (a non-breaking space from a word processor too)
    assert find_commune(name="Mende", postcode="48 000").insee == "48095"
    assert find_commune(name="Villefort", postcode="48\u00a0800").insee == "48198"
    assert find_commune(postcode=" 48 130 ").name == "Peyre en Aubrac"


def test_departement_as_a_spreadsheet_number() -> None:
    # 48.0: a number column with blanks, as pandas or a spreadsheet gives it (like 1001.0
    # for an INSEE code)
    assert find_commune(name="Villefort", departement="48.0").insee == "48198"
    roster = pd.DataFrame(
        {"agent_id": ["a", "b"], "commune": ["Villefort", "Langogne"], "dep": [48.0, None]}
    )
    assert read_agents(roster)["insee"].tolist() == ["48198", "48080"]


def test_names_with_the_article_after_them_in_brackets() -> None:
    # as INSEE's older files and many personnel systems write them
    assert find_commune(name="Canourgue (La)").name == "La Canourgue"
    assert find_commune(name="MALZIEU-VILLE (LE)").insee == "48090"
    assert find_commune(name="Abergement-Clémenciat (L')").insee == "01001"
    assert find_commune(name="Monts-Verts (Les)").insee == "48012"


def test_former_communes_merged_without_a_commune_deleguee_are_found() -> None:
    # Florac (sous-préfecture) and its neighbours merged in 2016 and kept no commune
    # déléguée, so the embedded table has no row of their own: rosters still write them
    assert find_commune(name="Florac").name == "Florac Trois Rivières"
    assert find_commune(name="FLORAC", postcode="48400").insee == "48061"
    assert find_commune(name="Florac", insee="48061").insee == "48061"
    assert find_commune(name="la salle prunet").insee == "48061"
    assert find_commune(name="Cocures").insee == "48050"
    assert find_commune(name="St-Maurice-de-Ventalon").insee == "48116"
    roster = pd.DataFrame({"agent_id": ["a", "b"], "commune": ["Florac", "Bédouès"]})
    assert read_agents(roster)["commune"].tolist() == ["Florac Trois Rivières", "Bédouès-Cocurès"]


def test_a_commune_outside_lozere(lozere_network) -> None:
    flour = find_commune(name="Saint-Flour", departement="15")
    assert flour.insee == "15187" and abs(flour.lat - 45.03) < 0.02
    agents = read_agents(_roster(["Saint-Flour", "Mende"], "commune"))
    table = allocation_table(
        run(agents, datasets.telecentres(), datasets.head_office(), lozere_network)
    )
    far = table.iloc[0]
    # Saint-Flour lies north of the embedded network's area: a per-agent reason, as for points
    assert far["location"] == "commune"
    assert far["status"] == "not_assigned" and far["reason"].startswith("unreachable")
    paris = read_agents(_roster(["Paris"], "commune"))
    with pytest.raises(InputError, match="outside the road network's area"):
        run(paris, datasets.telecentres(), datasets.head_office(), lozere_network)


def test_a_home_off_the_network_says_so(lozere_network) -> None:
    # Saint-Flour has roads to Mende: it is the embedded network that does not reach it
    agents = read_agents(_roster(["Saint-Flour", "Mende"], "commune"))
    result = run(agents, datasets.telecentres(), datasets.head_office(), lozere_network)
    far = allocation_table(result).iloc[0]
    assert far["reason"] == (
        "unreachable: home more than 10 km from the road network's roads (outside its area?)"
    )
    assert far["explanation"].startswith("not assigned (unreachable)")


def test_homonyms_need_a_postcode_or_departement() -> None:
    with pytest.raises(PlaceError, match=r"'Saint-Martin' names 4 communes") as caught:
        find_commune(name="Saint-Martin")
    assert {c.departement for c in caught.value.candidates} == {"32", "54", "65", "67"}
    assert find_commune(name="Saint-Martin", postcode="67220").insee == "67426"
    assert find_commune(name="saint martin", departement="32").insee == "32389"
    roster = pd.DataFrame(
        {"agent_id": ["a", "b"], "commune": ["Saint-Martin", "Saint-Martin"], "dep": ["65", "54"]}
    )
    assert read_agents(roster)["insee"].tolist() == ["65392", "54480"]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            "agent_id,commune\nA1,Mende\nA2,Saint-Martin\n",
            "agents.csv: row 3, column 'commune': 'Saint-Martin' names 4 communes: "
            "Saint-Martin (32389, 32300); ",
        ),
        (
            "agent_id,commune\nA1,Mendes\n",
            "agents.csv: row 2, column 'commune': 'Mendes' is not the name of a commune of "
            "France; did you mean",
        ),
        (
            "agent_id,commune\nA1,Xyzzyville\n",
            "agents.csv: row 2, column 'commune': 'Xyzzyville' is not the name of a commune",
        ),
        (
            "agent_id,insee\nA1,99999\n",
            "agents.csv: row 2, column 'insee': '99999' is not an INSEE commune code",
        ),
        (
            "agent_id,code_postal\nA1,48000\n",
            "agents.csv: row 2, column 'code_postal': postcode 48000 covers 12 communes",
        ),
        (
            "agent_id,commune,code_postal\nA1,Saint-Martin,48000\n",
            "no commune named 'Saint-Martin' has postcode 48000",
        ),
        (
            "agent_id,lon,lat,commune\nA1,3.5,44.5,\nA2,,,\n",
            "agents.csv: row 3: no coordinates and no commune (commune empty)",
        ),
        ("agent_id,name\nA1,x\n", "missing column 'lon'"),
    ],
)
def test_bad_communes_are_one_line_errors(tmp_path, cells: str, message: str) -> None:
    path = tmp_path / "agents.csv"
    path.write_text(cells, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_agents(path)
    text = str(caught.value)
    assert "\n" not in text
    assert message in text.replace(str(tmp_path) + "/", "")


def test_missing_coordinates_point_to_the_commune_columns(tmp_path) -> None:
    path = tmp_path / "agents.csv"
    path.write_text("agent_id,name\nA1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="commune of residence as commune"):
        read_agents(path)


def test_mixed_roster_through_the_command(tmp_path) -> None:
    roster = tmp_path / "agents.csv"
    roster.write_text(
        "matricule;lon;lat;commune;code_insee;jours\n"
        "A1;3,6;44,5;;;1\n"
        "A2;;;Langogne;;2\n"
        "A3;;;;48198;1\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--agents", str(roster), "--out", str(out), "--no-maps"])
    assert result.exit_code == 0, result.output
    allocation = pd.read_csv(out / "allocation.csv", keep_default_na=False)
    assert allocation["location"].tolist() == ["coordinates", "commune", "commune"]
    bad = tmp_path / "bad.csv"
    bad.write_text("agent_id,commune\nA1,Saint-Martin\n", encoding="utf-8")
    failed = CliRunner().invoke(main, ["--agents", str(bad), "--out", str(out), "--quiet"])
    assert failed.exit_code == 2
    assert failed.output.startswith("assign: error: ") and "Traceback" not in failed.output
    assert failed.output.count("\n") == 1


def test_a_name_without_its_article_narrowed_by_departement() -> None:
    # INSEE's files write 'Buisson' for Le Buisson (48032); another commune is named Buisson
    # (84): with the département, the roster's 'Buisson' is Lozère's, not an error
    assert find_commune(name="Buisson", departement="48").insee == "48032"
    assert find_commune(name="Buisson", postcode="48100").insee == "48032"
    assert find_commune(name="Buisson").insee == "84022"  # the exact name, as before
    with pytest.raises(PlaceError, match="no commune named 'Buisson' has département 30"):
        find_commune(name="Buisson", departement="30")
