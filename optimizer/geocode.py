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
import math
import re
import stat
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

import optimizer.settings as settings
from optimizer.errors import InputError, NetworkError
from optimizer.inputs import AGENT_ALIASES, _header_key
from optimizer.outfile import remove_stale_temporaries, write_atomic

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
    folder = Path(cache_dir) if cache_dir is not None else Path(settings.CACHE_DIR) / "ban"
    posts = [str(p or "") for p in postcodes] if postcodes is not None else [""] * len(addresses)
    keys = [_key(str(a), p) for a, p in zip(addresses, posts, strict=True)]
    remove_stale_temporaries(folder)  # entries a killed run was writing
    found, unusable = _cached_entries(folder, keys)
    cached = set(found)
    todo = list(dict.fromkeys(k for k in keys if k not in found))
    if todo:
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        rows = [(str(addresses[first[k]]), posts[first[k]]) for k in todo]
        content, url = _post_batch(rows, base_url, timeout_s)
        answer = _read_answer(content, [a for a, _ in rows], base_url)
        for key, record in zip(todo, answer, strict=True):
            found[key] = record
            if record["type"] == BAD_ANSWER or key in unusable:
                continue  # not cached: asked again next time
            _write_cache(folder, key, record)
        logger.info("geocoded %d addresses with %s", len(todo), url)
    table = pd.DataFrame([found[k] for k in keys], columns=["lon", "lat", "score", "label", "type"])
    table["cached"] = [k in cached for k in keys]
    return table


def _cached_entries(folder: Path, keys: list[str]) -> tuple[dict[str, dict[str, object]], set[str]]:
    """Return the cached answers of these keys, and the keys whose entry is not a file.

    Entries that are not files are neither read nor replaced.
    """
    found: dict[str, dict[str, object]] = {}
    unusable: set[str] = set()
    for key in set(keys):
        entry, usable = _read_cache(folder / f"{key}.json")
        if entry is not None:
            found[key] = entry
        elif not usable:
            unusable.add(key)
    return found, unusable


def _post_batch(rows: list[tuple[str, str]], base_url: str, timeout_s: float) -> tuple[bytes, str]:
    """Send the addresses (and postcodes) as one CSV; return the answer's bytes and the URL."""
    import requests

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
        status, content = response.status_code, response.content
    except requests.RequestException as exc:
        msg = (
            f"the address service {base_url} cannot be reached ({type(exc).__name__}): "
            "geocoding needs a connection. Offline, give each agent's commune instead "
            "(column commune, insee or code_postal), which needs none."
        )
        raise NetworkError(msg) from None
    if status != 200:
        excerpt = content[:80].decode("utf-8", "replace").strip()
        msg = (
            f"the address service {base_url} answered {status} "
            f"({excerpt!r}). Try again later, or give communes instead."
        )
        raise NetworkError(msg)
    return content, url


#: ``type`` of a row whose answer was malformed (numbers missing or out of range).
BAD_ANSWER = "bad answer"
#: Largest cache entry read, bytes (an entry is about 200).
_MAX_CACHE_BYTES = 65_536
#: Columns every answer of the service has.
ANSWER_COLUMNS = ("latitude", "longitude", "result_score", "result_label", "result_type")


def _unusable_service(base_url: str, what: str) -> NetworkError:
    return NetworkError(
        f"the address service {base_url} sent an answer that is not usable ({what}); "
        "nothing was geocoded. Try again later, check --url, or give communes instead."
    )


def _read_answer(content: bytes, sent: list[str], base_url: str) -> list[dict[str, object]]:
    """Check the service's CSV answer and return one record per address sent.

    An answer that cannot be read as a whole (empty, not UTF-8, not a CSV with
    the service's columns, not one row per address, rows out of order) is a
    :class:`~optimizer.errors.NetworkError`; a row whose numbers are missing
    or out of range is a row ``not found``, or ``bad answer`` when the
    service claims a match it does not give.
    """
    if not content.strip():
        raise _unusable_service(base_url, "it is empty")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _unusable_service(base_url, f"not UTF-8 text, byte {exc.start}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answer = pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, on_bad_lines="error"
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _unusable_service(base_url, f"not a CSV table: {first}") from None
    missing = [c for c in ANSWER_COLUMNS if c not in answer.columns]
    if missing:
        raise _unusable_service(base_url, f"no column {', '.join(missing)}")
    if len(answer) != len(sent):
        raise _unusable_service(base_url, f"{len(answer)} rows for {len(sent)} addresses")
    if "adresse" in answer.columns:
        echoed = [str(v).strip() for v in answer["adresse"]]
        wrong = [i for i, (a, b) in enumerate(zip(echoed, sent, strict=True)) if a != b.strip()]
        if wrong:
            raise _unusable_service(base_url, f"row {wrong[0] + 2} is not the address sent")
    records = []
    for row in answer.to_dict("records"):
        lon, lat = _number(row["longitude"]), _number(row["latitude"])
        score = _number(row["result_score"])
        label, kind = str(row["result_label"]).strip(), str(row["result_type"]).strip()
        given = [str(row[c]).strip() for c in ("longitude", "latitude", "result_score")]
        if not any(given):
            records.append({"lon": np.nan, "lat": np.nan, "score": np.nan, "label": "", "type": ""})
            continue
        if not (-180 <= lon <= 180 and -90 <= lat <= 90 and 0 <= score <= 1):
            lon = lat = score = np.nan
            kind = BAD_ANSWER
        records.append(
            {"lon": lon, "lat": lat, "score": score, "label": label[:200], "type": kind[:40]}
        )
    return records


def _valid_entry(entry: object) -> bool:
    if not isinstance(entry, dict) or set(entry) != {"lon", "lat", "score", "label", "type"}:
        return False
    numbers = [entry["lon"], entry["lat"], entry["score"]]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
        return False
    if not (isinstance(entry["label"], str) and isinstance(entry["type"], str)):
        return False
    lon, lat, score = (float(v) for v in numbers)
    if any(math.isnan(v) for v in numbers):
        return all(math.isnan(v) for v in numbers)
    return -180 <= lon <= 180 and -90 <= lat <= 90 and 0 <= score <= 1


def _read_cache(path: Path) -> tuple[dict[str, object] | None, bool]:
    """Read one cache entry: (entry or None, whether the path may be written).

    A truncated or corrupt entry is renamed ``<name>.bad`` with a warning (and
    asked again); a path that is not a regular file is left alone, unused.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return None, True
    except OSError as exc:
        logger.warning("geocoding cache: cannot read %s (%s); not used", path, exc.strerror)
        return None, False
    if not stat.S_ISREG(info.st_mode):
        logger.warning("geocoding cache: %s is not a file; not used, not replaced", path)
        return None, False
    entry: object = None
    if info.st_size <= _MAX_CACHE_BYTES:
        try:
            entry = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_nan_constant)
        except (OSError, UnicodeDecodeError, ValueError):
            entry = None
    if isinstance(entry, dict) and _valid_entry(entry):
        numbers = ("lon", "lat", "score")
        return {k: (float(v) if k in numbers else v) for k, v in entry.items()}, True
    aside = path.with_name(f"{path.name}.bad")
    try:
        path.replace(aside)
    except OSError as exc:
        logger.warning(
            "geocoding cache: %s is corrupt and cannot be set aside (%s); its address is asked "
            "again",
            path,
            exc.strerror,
        )
        return None, False
    logger.warning(
        "geocoding cache: %s was corrupt (truncated?); set aside as %s, its address is asked again",
        path,
        aside.name,
    )
    return None, True


def _nan_constant(name: str) -> float:
    if name == "NaN":
        return float("nan")
    msg = f"unexpected constant {name}"
    raise ValueError(msg)


def _write_cache(folder: Path, key: str, record: dict[str, object]) -> None:
    """Write one cache entry atomically (temporary file and rename); warn when it cannot."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / f"{key}.json", json.dumps(record).encode("utf-8"))
    except OSError as exc:
        logger.warning(
            "geocoding cache: cannot write in %s (%s); the answer is not cached",
            folder,
            exc.strerror,
        )


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
        geocode_score, geocode_label, geocode_status`` (``ok``, ``low score``,
        ``not found``, ``bad answer``, ``no address``, or ``coordinates
        given``). A row that already has coordinates (``lon, lat`` or another
        name assign reads, e.g. ``longitude, latitude``) is not sent and keeps
        them; those columns are written in place, not added again.
    """
    column, post, lon_col, lat_col = _roster_columns(table, name)
    addresses = table[column].fillna("").astype(str).str.strip().tolist()
    # rows that already have coordinates keep them, in the columns assign reads
    given = np.ones(len(table), dtype=bool)
    for col in (lon_col, lat_col):
        cells = table[col] if col in table.columns else pd.Series([""] * len(table))
        given &= np.array([_filled(v) for v in cells], dtype=bool)
    has = np.array([bool(a) for a in addresses]) & ~given
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
    bad = (result["type"] == BAD_ANSWER).to_numpy()
    status = np.where(ok, "ok", np.where(np.isnan(score), "not found", "low score"))
    status = np.where(bad, BAD_ANSWER, status)
    status = np.where(has, status, "no address")
    status = np.where(given, COORDINATES_GIVEN, status)
    out = _with_matches(table, result, given=given, ok=ok, columns=(lon_col, lat_col))
    out["geocode_status"] = status
    return out


def _roster_columns(table: pd.DataFrame, name: str) -> tuple[str, str | None, str, str]:
    """Return the roster's address, postcode (None: none), longitude and latitude columns."""
    lower = {_header_key(str(c)): c for c in table.columns}  # 'Adresse postale' is adresse_postale
    column = next((lower[c] for c in ADDRESS_COLUMNS if c in lower), None)
    if column is None:
        msg = (
            f"{name}: no address column ({', '.join(ADDRESS_COLUMNS)}). The file has: "
            f"{', '.join(map(str, table.columns))}."
        )
        raise InputError(msg)
    post = next((lower[c] for c in POSTCODE_COLUMNS if c in lower), None)
    lon_col = next((lower[c] for c in AGENT_ALIASES["lon"] if c in lower), "lon")
    lat_col = next((lower[c] for c in AGENT_ALIASES["lat"] if c in lower), "lat")
    return column, post, lon_col, lat_col


def _with_matches(
    table: pd.DataFrame,
    result: pd.DataFrame,
    *,
    given: np.ndarray,
    ok: np.ndarray,
    columns: tuple[str, str],
) -> pd.DataFrame:
    """Return the roster with each row's coordinates and match (given rows keep theirs)."""
    score = result["score"].to_numpy(float)
    out = table.copy()
    for key, col in zip(("lon", "lat"), columns, strict=True):
        before = out[col].to_numpy(object) if col in out.columns else np.full(len(out), "")
        coded = result[key].to_numpy(float).round(6)
        values = [
            _decimal_point(b) if g else (c if k else "")
            for b, g, c, k in zip(before, given, coded, ok, strict=True)
        ]
        out[col] = np.array(values, dtype=object)
    kept = {
        c: (out[c].to_numpy(object) if c in out.columns else np.full(len(out), ""))
        for c in ("location", "location_precision_m", "geocode_score", "geocode_label")
    }
    out["location"] = np.where(given, kept["location"], np.where(ok, "address", ""))
    out["location_precision_m"] = [
        p if g else (PRECISION_M.get(t, np.nan) if k else np.nan)
        for p, g, t, k in zip(kept["location_precision_m"], given, result["type"], ok, strict=True)
    ]
    # a row kept from an earlier run of this command keeps its match too
    for column, fresh in (
        ("geocode_score", np.round(score, 3)),
        ("geocode_label", result["label"]),
    ):
        out[column] = np.array(
            [k if g else f for k, g, f in zip(kept[column], given, fresh, strict=True)],
            dtype=object,
        )
    return out


#: ``geocode_status`` of a row that had coordinates: kept, not geocoded.
COORDINATES_GIVEN = "coordinates given"


def _decimal_point(value: object) -> object:
    """Write a kept coordinate's decimal comma as a point (``3,6012``: 3.6012).

    The geocoded roster is comma-separated, where a decimal comma would not be
    read back as a number.
    """
    text = str(value).strip()
    return text.replace(",", ".") if re.fullmatch(r"[+-]?\d+,\d+", text) else value


def _filled(value: object) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(str(value).strip())


def is_geocode_output(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a roster written by ``assign geocode``."""
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    return b"geocode_status" in first and b"geocode_score" in first


__all__ = ["BAN_URL", "MIN_SCORE", "PRECISION_M", "geocode_addresses", "geocode_roster"]
