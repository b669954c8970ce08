"""Geocoding addresses with France's national address base (BAN), batch CSV service.

:func:`geocode_addresses` sends the addresses (and nothing else: no id, no
name, no other column) to the BAN's ``/search/csv/`` service, caches every
answer on disk under a hash of the address, and returns a point, the match
score (0 to 1) and the label the service matched. :func:`geocode_roster` does
it for an agents table with an ``adresse`` column. Offline, a
:class:`~optimizer.errors.NetworkError` says so in one line and points to the
commune columns, which need no connection (:mod:`optimizer.places`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer import settings
from optimizer.errors import InputError, NetworkError
from optimizer.inputs import _header_key

logger = logging.getLogger(__name__)

#: The BAN's address API; ``/search/csv/`` is its batch service.
BAN_URL = "https://api-adresse.data.gouv.fr"
#: Below this match score a row is flagged ``low score`` and gets no coordinates.
MIN_SCORE = 0.6
#: How far a point may lie from the home, by the kind of match (``result_type``), metres.
PRECISION_M = {"housenumber": 30.0, "street": 300.0, "locality": 1_000.0, "municipality": 5_000.0}
#: Column names read as the address, and as its postcode.
ADDRESS_COLUMNS = ("adresse", "address", "adresse_postale", "rue")
POSTCODE_COLUMNS = ("code_postal", "postcode", "cp")
#: Seconds to wait for the service.
TIMEOUT_S = 60.0


def _key(address: str, postcode: str) -> str:
    return hashlib.sha256(f"{address.strip().lower()}\x00{postcode.strip()}".encode()).hexdigest()


def geocode_addresses(
    addresses: Sequence[str],
    *,
    postcodes: Sequence[str] | None = None,
    base_url: str = BAN_URL,
    cache_dir: str | Path | None = None,
    timeout_s: float = TIMEOUT_S,
) -> pd.DataFrame:
    """Geocode addresses with the BAN batch CSV service (cached).

    Only the address (and its postcode, when given, as a filter) is sent;
    addresses already in the cache are not sent again.

    Parameters
    ----------
    addresses
        One address per row (``12 rue de la République, Mende``).
    postcodes
        Postcodes that narrow the search, per row (empty: none).
    base_url
        The service (default :data:`BAN_URL`; tests give a local stand-in).
    cache_dir
        Folder of the cache (default ``settings.CACHE_DIR / "ban"``).
    timeout_s
        Seconds to wait for the service.

    Returns
    -------
    pandas.DataFrame
        Per row: ``lon, lat, score`` (NaN when not found), ``label, type``
        (the BAN's ``result_label`` and ``result_type``), ``cached``.
    """
    import requests

    folder = Path(cache_dir) if cache_dir is not None else Path(settings.CACHE_DIR) / "ban"
    posts = [str(p or "") for p in postcodes] if postcodes is not None else [""] * len(addresses)
    keys = [_key(str(a), p) for a, p in zip(addresses, posts, strict=True)]
    found: dict[str, dict[str, object]] = {}
    for key in set(keys):
        path = folder / f"{key}.json"
        if path.exists():
            found[key] = json.loads(path.read_text(encoding="utf-8"))
    cached = set(found)
    todo = list(dict.fromkeys(k for k in keys if k not in found))
    if todo:
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        rows = [(str(addresses[first[k]]), posts[first[k]]) for k in todo]
        with_post = any(p for _, p in rows)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["adresse", "code_postal"] if with_post else ["adresse"])
        for address, post in rows:
            writer.writerow([address, post] if with_post else [address])
        data: list[tuple[str, str]] = [("columns", "adresse")]
        if with_post:
            data.append(("postcode", "code_postal"))
        url = base_url.rstrip("/") + "/search/csv/"
        try:
            response = requests.post(
                url,
                files={"data": ("addresses.csv", buffer.getvalue().encode("utf-8"), "text/csv")},
                data=data,
                timeout=timeout_s,
            )
        except requests.RequestException as exc:
            msg = (
                f"the address service {base_url} cannot be reached ({type(exc).__name__}): "
                "geocoding needs a connection. Offline, give each agent's commune instead "
                "(column commune, insee or code_postal), which needs none."
            )
            raise NetworkError(msg) from None
        if response.status_code != 200:
            msg = (
                f"the address service {base_url} answered {response.status_code} "
                f"({response.text[:80].strip()!r}). Try again later, or give communes instead."
            )
            raise NetworkError(msg)
        answer = pd.read_csv(
            io.StringIO(response.content.decode("utf-8-sig")), dtype=str, keep_default_na=False
        )
        if len(answer) != len(rows):
            msg = (
                f"the address service {base_url} returned {len(answer)} rows for {len(rows)} "
                "addresses. Try again later."
            )
            raise NetworkError(msg)
        folder.mkdir(parents=True, exist_ok=True)
        for key, (_, record) in zip(todo, answer.iterrows(), strict=True):
            result = {
                "lon": _number(record.get("longitude", "")),
                "lat": _number(record.get("latitude", "")),
                "score": _number(record.get("result_score", "")),
                "label": str(record.get("result_label", "")),
                "type": str(record.get("result_type", "")),
            }
            found[key] = result
            (folder / f"{key}.json").write_text(json.dumps(result), encoding="utf-8")
        logger.info("geocoded %d addresses with %s", len(todo), url)
    table = pd.DataFrame([found[k] for k in keys], columns=["lon", "lat", "score", "label", "type"])
    table["cached"] = [k in cached for k in keys]
    return table


def _number(text: object) -> float:
    try:
        return float(str(text))
    except ValueError:
        return float("nan")


def geocode_roster(
    table: pd.DataFrame,
    *,
    name: str = "the roster",
    min_score: float = MIN_SCORE,
    base_url: str = BAN_URL,
    cache_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Add ``lon, lat`` to a roster from its ``adresse`` column, with the match of each row.

    A row whose match scores below ``min_score``, or that the service did not
    find, gets no coordinates (its commune columns, if any, then place it).

    Parameters
    ----------
    table
        The roster as read (every column kept); it needs an ``adresse`` column
        (or ``address``, ``adresse_postale``), and may give ``code_postal``.
    name
        The file's name, for messages.
    min_score
        Smallest score accepted.
    base_url
        The service.
    cache_dir
        Folder of the cache.

    Returns
    -------
    pandas.DataFrame
        The roster with ``lon, lat, location, location_precision_m,
        geocode_score, geocode_label, geocode_status`` (``ok``, ``low score``
        or ``not found``).
    """
    lower = {_header_key(str(c)): c for c in table.columns}  # 'Adresse postale' is adresse_postale
    column = next((lower[c] for c in ADDRESS_COLUMNS if c in lower), None)
    if column is None:
        msg = (
            f"{name}: no address column ({', '.join(ADDRESS_COLUMNS)}). The file has: "
            f"{', '.join(map(str, table.columns))}."
        )
        raise InputError(msg)
    post = next((lower[c] for c in POSTCODE_COLUMNS if c in lower), None)
    addresses = table[column].fillna("").astype(str).str.strip().tolist()
    has = np.array([bool(a) for a in addresses])
    result = pd.DataFrame(
        {"lon": np.nan, "lat": np.nan, "score": np.nan, "label": "", "type": ""},
        index=range(len(table)),
    )
    if has.any():
        rows = np.flatnonzero(has)
        answer = geocode_addresses(
            [addresses[i] for i in rows],
            postcodes=table[post].fillna("").astype(str).iloc[rows].tolist() if post else None,
            base_url=base_url,
            cache_dir=cache_dir,
        )
        for field in ("lon", "lat", "score", "label", "type"):
            result.loc[rows, field] = answer[field].to_numpy()
    score = result["score"].to_numpy(float)
    ok = has & (score >= min_score)
    status = np.where(ok, "ok", np.where(np.isnan(score), "not found", "low score"))
    status = np.where(has, status, "no address")
    out = table.copy()
    for key in ("lon", "lat"):
        out[key] = np.where(ok, result[key].to_numpy(float).round(6), np.nan)
    out["location"] = np.where(ok, "address", "")
    out["location_precision_m"] = [
        PRECISION_M.get(t, np.nan) if k else np.nan for t, k in zip(result["type"], ok, strict=True)
    ]
    out["geocode_score"] = np.round(score, 3)
    out["geocode_label"] = result["label"].to_numpy()
    out["geocode_status"] = status
    return out


__all__ = ["BAN_URL", "MIN_SCORE", "PRECISION_M", "geocode_addresses", "geocode_roster"]
