"""Which column of a table holds which field: headers matched on their words.

The aliases of every field (:data:`AGENT_ALIASES`, :data:`TELECENTRE_ALIASES`,
:data:`WORKPLACE_ALIASES`), the words a header may add or leave out, and the
matching itself: a header names a field when it holds the words of one of its
aliases (``Commune de résidence`` is ``commune``); two columns read as one field,
or a column that says it matters to the plan but is not understood, are errors.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

import pandas as pd

from optimizer.errors import InputError

AGENT_ALIASES: dict[str, tuple[str, ...]] = {
    "agent_id": ("agent_id", "id", "agent", "matricule", "identifiant"),
    "lon": ("lon", "lng", "longitude", "long", "x"),
    "lat": ("lat", "latitude", "y"),
    "telework_days": (
        "telework_days",
        "days",
        "jours",
        "jours_teletravail",
        "nb_jours",
        "jours_tt",
        "telework_days_per_week",
    ),
    "commune": (
        "commune",
        "town",
        "ville",
        "nom_commune",
        "commune_residence",
        "ville_residence",
        "lieu_residence",
        "city",
    ),
    "insee": ("insee", "code_insee", "code_commune", "codgeo", "insee_code", "cog"),
    "code_postal": ("code_postal", "postcode", "cp", "postal_code", "zip", "code postal"),
    "departement": ("departement", "département", "dep", "code_departement", "dept"),
    "workplace_id": (
        "workplace_id",
        "workplace",
        "lieu_de_travail",
        "site_de_travail",
        "affectation",
        "site_affectation",
        "lieu_affectation",
        "commune_de_travail",
        "ville_de_travail",
        "commune_affectation",
        "residence_administrative",
    ),
    "location": ("location",),
    "location_precision_m": ("location_precision_m",),
    "must_assign": ("must_assign", "must", "obligatoire", "force"),
    "preferred_telecentre": ("preferred_telecentre", "preferred", "prefere", "préféré"),
    "forbidden_telecentres": ("forbidden_telecentres", "forbidden", "exclus", "excluded"),
    "priority": ("priority", "priorite", "priorité", "rang_priorite", "prio"),
    # read by a national run (optimizer.national.files), where each row gives its workplace
    "workplace_lon": ("workplace_lon",),
    "workplace_lat": ("workplace_lat",),
}
TELECENTRE_ALIASES: dict[str, tuple[str, ...]] = {
    "telecentre_id": ("telecentre_id", "site_id", "id", "telecentre", "site", "identifiant"),
    "name": ("name", "nom", "label"),
    "lon": AGENT_ALIASES["lon"],
    "lat": AGENT_ALIASES["lat"],
    "capacity": ("capacity", "capacite", "capacité", "desks", "places", "postes"),
    "opening_cost": ("opening_cost", "cost", "cout", "coût", "rent"),
    "mon": ("mon", "monday", "lundi", "desks_mon"),
    "tue": ("tue", "tuesday", "mardi", "desks_tue"),
    "wed": ("wed", "wednesday", "mercredi", "desks_wed"),
    "thu": ("thu", "thursday", "jeudi", "desks_thu"),
    "fri": ("fri", "friday", "vendredi", "desks_fri"),
}
for _key in ("commune", "insee", "code_postal", "departement", "location", "location_precision_m"):
    TELECENTRE_ALIASES[_key] = AGENT_ALIASES[_key]
AGENT_ALIASES["preferred_days"] = ("preferred_days", "jours_preferes", "jours_préférés")
AGENT_ALIASES["impossible_days"] = ("impossible_days", "jours_impossibles")

FILLER_WORDS = frozenset(
    {"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les"}
    | {"n", "no", "nb", "nombre", "num", "numero", "of", "the", "number"}
    | {"par", "per", "by", "for", "pour", "in", "dans", "sur"}
)
"""Words a header may hold that say nothing of its column (``Nombre de jours``)."""
OPTIONAL_WORDS: dict[str, frozenset[str]] = {
    field: frozenset(words.split())
    for field, words in {
        "agent_id": "agent id identifiant matricule code",
        "lon": "wgs84 gps domicile home residence coord coordonnee degre",
        "lat": "wgs84 gps domicile home residence coord coordonnee degre",
        "telework_days": "teletravail tt telework teleworking semaine week hebdo hebdomadaire",
        "commune": "residence domicile habitation home nom libelle",
        "insee": "code commune residence domicile",
        "code_postal": "residence domicile commune",
        "departement": "code residence domicile",
        "workplace_id": "id identifiant code",
        "preferred_telecentre": "telecentre site",
        "forbidden_telecentres": "telecentre site",
        "preferred_days": "teletravail tt telework",
        "impossible_days": "teletravail tt telework",
        "priority": "rang niveau ordre level rank",
        "telecentre_id": "code",
        "name": "site telecentre",
    }.items()
}
"""Words a header may add to one of its field's names (``Commune de résidence``)."""
LOOKALIKE_WORDS = frozenset(
    {"jour", "day", "teletravail", "telework", "commune", "insee", "postal"}
    | {"lon", "lat", "longitude", "latitude", "priorite", "priority"}
)
"""Words of a roster header that name something the planner reads: not understood, it stops."""
_EXAMPLES = {
    "agent_id": "Matricule",
    "telework_days": "Jours de télétravail",
    "commune": "Commune de résidence",
    "insee": "Code INSEE",
    "code_postal": "Code postal",
    "departement": "Département",
    "workplace_id": "Lieu de travail",
    "preferred_days": "Jours préférés",
    "impossible_days": "Jours impossibles",
    "priority": "Priorité",
}


PLACE_COLUMNS = ("commune", "insee", "code_postal")
"""Columns that place a row (agent, telecentre, workplace) at its commune without coordinates."""
PLACE_ALIASES: dict[str, tuple[str, ...]] = {
    key: AGENT_ALIASES[key]
    for key in (*PLACE_COLUMNS, "departement", "location", "location_precision_m")
}
"""The columns that say where a row is when it has no ``lon, lat`` (and how it was placed)."""


WORKPLACE_ALIASES: dict[str, tuple[str, ...]] = {
    "workplace_id": ("workplace_id", "id", "workplace", "site_id", "identifiant"),
    "name": ("name", "nom", "label"),
    "lon": AGENT_ALIASES["lon"],
    "lat": AGENT_ALIASES["lat"],
    **PLACE_ALIASES,
}


# --------------------------------------------------------------------------- columns


def _resolve_columns(
    table: pd.DataFrame,
    aliases: dict[str, tuple[str, ...]],
    *,
    required: Sequence[str],
    name: str,
) -> dict[str, str]:
    """Map each field of ``aliases`` to the column of ``table`` that holds it.

    A header matches a field on its words (:func:`_field_of`). Of two columns
    read as one field, the one matching the earlier alias is read (``id``
    before ``site`` for a telecentre's id) and the other is not; matching the
    same alias (``Code postal`` and ``code_postal``), they are an error naming
    both.
    """
    found: dict[str, str] = {}
    ranks: dict[str, int] = {}
    for column in table.columns:
        match = _match(str(column), aliases)
        if match is None:
            continue
        field, rank = match
        if field in found and rank == ranks[field]:  # which one is meant?
            msg = (
                f"{name}: columns '{found[field]}' and '{column}' are both read as "
                f"'{field}': keep one, or rename the other."
            )
            raise InputError(msg)
        if field not in found or rank < ranks[field]:
            found[field], ranks[field] = column, rank
    missing = [c for c in required if c not in found]
    if missing:
        have = ", ".join(str(c) for c in table.columns) or "(none)"
        wanted = "; ".join(f"'{c}' (or {', '.join(aliases[c][1:])})" for c in missing)
        msg = f"{name}: missing column {wanted}. The file has: {have}."
        raise InputError(msg)
    return found


@functools.cache
def _header_words(text: str) -> frozenset[str]:
    """Return the words a header (or an alias) matches on.

    Lower case, no accents, split on anything but letters and digits, a plural
    ``s`` dropped, filler words (:data:`FILLER_WORDS`) left out unless nothing
    else remains: ``Nombre de jours de télétravail`` is ``{jour, teletravail}``.
    """
    plain = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    tokens = [t for t in re.split(r"[^0-9a-z]+", plain) if t]
    kept = [t for t in tokens if t not in FILLER_WORDS] or tokens
    return frozenset(t[:-1] if len(t) > 3 and t.endswith("s") else t for t in kept)


def _field_of(header: str, aliases: dict[str, tuple[str, ...]]) -> str | None:
    """Return the field a header names, or None (see :func:`_match`)."""
    match = _match(header, aliases)
    return None if match is None else match[0]


def _match(header: str, aliases: dict[str, tuple[str, ...]]) -> tuple[str, int] | None:
    """Return the field a header names and the position of the alias it matches, or None.

    A header names a field when it holds every word of one of the field's
    aliases and no other word but the field's :data:`OPTIONAL_WORDS`. When
    several fields match, the one whose alias has the most words wins (``Jours
    préférés`` is preferred_days, not telework_days); a tie names none.
    """
    words = _header_words(header)
    best: dict[str, tuple[int, int]] = {}  # field -> (words of its longest alias, first alias)
    for field, names in aliases.items():
        optional = OPTIONAL_WORDS.get(field, frozenset())
        for rank, alias in enumerate(names):
            pattern = _header_words(alias)
            if pattern <= words and words - pattern <= optional:
                size, first = best.get(field, (0, rank))
                best[field] = (max(size, len(pattern)), min(first, rank))
    if not best:
        return None
    top = max(size for size, _ in best.values())
    fields = [f for f, (size, _) in best.items() if size == top]
    return (fields[0], best[fields[0]][1]) if len(fields) == 1 else None


def _unread_columns(
    table: pd.DataFrame, cols: dict[str, str], aliases: dict[str, tuple[str, ...]], name: str
) -> list[str]:
    """Return the columns not read; one that names something read (``Jours TT``...) stops.

    Returns
    -------
    list of str
        The headers of the columns no field reads, in file order.

    Raises
    ------
    InputError
        A column holds a word of :data:`LOOKALIKE_WORDS` and is not read: it
        is not understood, or another column holds its field.
    """
    read = set(cols.values())
    unread = [str(c) for c in table.columns if c not in read]
    for column in unread:
        if not _header_words(column) & LOOKALIKE_WORDS:
            continue
        taken = _field_of(column, aliases)
        if taken is not None:  # 'Matricule' and 'Identifiant' both the id: one is read
            msg = (
                f"{name}: columns '{cols[taken]}' and '{column}' are both read as '{taken}': "
                "keep one, or rename the other."
            )
            raise InputError(msg)
        shown = ", ".join(
            f"{field} ({_EXAMPLES[field]})" if field in _EXAMPLES else field
            for field in aliases
            if not field.startswith(("location", "workplace_l"))
        )
        msg = (
            f"{name}: column '{column}' is not understood, and its name says it may matter "
            f"to the plan. Rename it as one of the columns read, or remove it: {shown}."
        )
        raise InputError(msg)
    return unread


def _header_key(text: str) -> str:
    """Return the key a header matches its aliases on: any case, no accents, ``_`` for spaces.

    ``Jours télétravail`` and ``Code-Postal`` match ``jours_teletravail`` and ``code_postal``.
    """
    plain = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"[\s\-.'\u2019]+", "_", plain).strip("_")
