"""Maps of a run: a static PNG and an interactive HTML page.

Both show the département and its communes, the telecentres sized by their
occupancy, the head office, and the agents **aggregated per commune** (a
circle per commune at a point inside it, sized by the number of agents):
homes are never drawn one by one. The HTML page inlines Leaflet (shipped in
``optimizer/_static``), so it renders without internet; only the background
tiles need a connection.

This module is the maps' front: the file names, and the names of
:mod:`optimizer.map_data` (what both maps draw), :mod:`optimizer.map_png`
(``map.png``) and :mod:`optimizer.map_html` (``map.html``), re-exported.
"""

from __future__ import annotations

from optimizer.map_data import CELL_DEG as CELL_DEG
from optimizer.map_data import IN_COMMUNE as IN_COMMUNE
from optimizer.map_data import MIN_SPAN_DEG as MIN_SPAN_DEG
from optimizer.map_data import SHARE_CMAP as SHARE_CMAP
from optimizer.map_data import UNREACHABLE_COLOUR as UNREACHABLE_COLOUR
from optimizer.map_data import agents_by_commune as agents_by_commune
from optimizer.map_data import agents_outside as agents_outside
from optimizer.map_data import home_communes as home_communes
from optimizer.map_html import interactive_map as interactive_map
from optimizer.map_html import render_html as render_html
from optimizer.map_html import stable_ids as stable_ids
from optimizer.map_png import render_png as render_png
from optimizer.map_png import static_map as static_map

MAP_PNG = "map.png"
MAP_HTML = "map.html"
