"""Reading and validating agents, telecentres and the head office.

Inputs come from CSV files exported by spreadsheets and HR software (``,`` or
``;`` separated, decimal comma, UTF-8 with or without BOM, or cp1252), from
GeoPackage / GeoJSON point layers, or from (Geo)DataFrames built in a notebook.
Whatever the source, the readers return a plain :class:`pandas.DataFrame` with
the canonical columns below and WGS84 longitudes and latitudes, or raise
:class:`~optimizer.errors.InputError` with a message that names the file, the
row, the column and the value at fault.

Agents: ``agent_id`` (str), ``lon``, ``lat`` (float, EPSG:4326),
``telework_days`` (int, 1-5; 1 if the column is absent), ``commune`` (str, may
be empty), ``location`` (``coordinates`` or ``commune``: how the point was
found), ``location_precision_m`` (NaN for coordinates; for a commune, how far a
home in it may lie from its town hall), ``insee`` (the commune's code where
the point is a commune's) and ``priority`` (float, higher served first; 0 if
the column is absent or the cell empty). A row without coordinates is placed at
its commune (``commune``, ``insee`` or ``code_postal``, see
:mod:`optimizer.places`). Headers are matched on their words, as HR software
writes them (``Commune de résidence``, ``Nb jours TT``): see :func:`read_agents`.

Telecentres: ``telecentre_id`` (str), ``name`` (str), ``lon``, ``lat``,
``capacity`` (int >= 0, desks each weekday), with ``commune``, ``location``,
``location_precision_m`` and ``insee`` as for agents: a telecentre, like a
workplace, may be given by its commune instead of ``lon, lat`` (placed at the
town hall).

The package, one job a module:

- :mod:`optimizer.inputs.roster`: the agents (:func:`read_agents`).
- :mod:`optimizer.inputs.sites`: telecentres, workplaces, the head office, and
  the agents' references to them.
- :mod:`optimizer.inputs.own_workplaces`: a row's own workplace given as
  coordinates (``workplace_lon, workplace_lat``), made a workplace.
- :mod:`optimizer.inputs.reference`: speed tables and factors, an area,
  reference trips.
- :mod:`optimizer.inputs.placing`: a row's point, from coordinates or its
  commune; points outside the network's area.
- :mod:`optimizer.inputs.loading`: CSV text, point layers and DataFrames read
  as raw tables.
- :mod:`optimizer.inputs.headers`: which column holds which field.
- :mod:`optimizer.inputs.cells`: the cells' values (ids, numbers, weekdays...),
  and bad rows gathered into one error.
"""

from __future__ import annotations

from optimizer.inputs.cells import MAX_ROWS_SHOWN, NUMBER, WEEKDAYS, day_mask
from optimizer.inputs.headers import (
    AGENT_ALIASES,
    FILLER_WORDS,
    LOOKALIKE_WORDS,
    OPTIONAL_WORDS,
    PLACE_ALIASES,
    PLACE_COLUMNS,
    TELECENTRE_ALIASES,
    WORKPLACE_ALIASES,
)
from optimizer.inputs.headers import _header_key as _header_key  # for the command
from optimizer.inputs.loading import (
    MAX_INPUT_BYTES,
    Source,
    read_input_bytes,
    read_table,
    split_layer,
)
from optimizer.inputs.own_workplaces import coordinate_workplaces
from optimizer.inputs.placing import check_in_area
from optimizer.inputs.reference import (
    MAX_KMH,
    MAX_REFERENCE_KMH,
    MIN_KMH,
    read_area,
    read_reference_trips,
    read_speed_factors,
    read_speed_table,
)
from optimizer.inputs.roster import read_agents
from optimizer.inputs.sites import (
    MAX_DESKS,
    MAX_OPENING_COST,
    HeadOffice,
    check_telecentre_refs,
    check_workplace_refs,
    parse_lonlat,
    read_telecentres,
    read_workplaces,
)

__all__ = [
    "AGENT_ALIASES",
    "FILLER_WORDS",
    "LOOKALIKE_WORDS",
    "MAX_DESKS",
    "MAX_INPUT_BYTES",
    "MAX_KMH",
    "MAX_OPENING_COST",
    "MAX_REFERENCE_KMH",
    "MAX_ROWS_SHOWN",
    "MIN_KMH",
    "NUMBER",
    "OPTIONAL_WORDS",
    "PLACE_ALIASES",
    "PLACE_COLUMNS",
    "TELECENTRE_ALIASES",
    "WEEKDAYS",
    "WORKPLACE_ALIASES",
    "HeadOffice",
    "Source",
    "check_in_area",
    "check_telecentre_refs",
    "check_workplace_refs",
    "coordinate_workplaces",
    "day_mask",
    "parse_lonlat",
    "read_agents",
    "read_area",
    "read_input_bytes",
    "read_reference_trips",
    "read_speed_factors",
    "read_speed_table",
    "read_table",
    "read_telecentres",
    "read_workplaces",
    "split_layer",
]
