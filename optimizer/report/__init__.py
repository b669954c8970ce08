"""Result tables and the files the ``assign`` command writes.

Every table keeps every input agent, in input order, with a status and a
reason. No table carries home coordinates. Every table is computed first;
then the files are published as one whole run (:mod:`optimizer.publish`), so
the output folder holds the previous run or the new one, never a mix.

Every CSV file goes through the one writer, :func:`optimizer.csvout.csv_text`:
cells a spreadsheet would run as a formula are neutralised (at the start of
the cell and of every line inside it), reversibly, and cells holding a line
break are quoted.

The package, one job a module:

- :mod:`optimizer.report.agents`: the per-agent tables (allocation, travel
  times, ranking, changes) and the benefits.
- :mod:`optimizer.report.run_summary`: ``summary.json`` and the sentences of
  the plan.
- :mod:`optimizer.report.writing`: :func:`write_outputs`, every file of a run
  published at once.
- :mod:`optimizer.report.shared`: pseudonyms and reasons fit to share.

The shared tables and file names live in :mod:`optimizer.tables`; they are
re-exported here.
"""

from __future__ import annotations

from optimizer.csvout import CSV_STYLES, CsvStyle, csv_text, neutralise_formulas
from optimizer.model import HEAD_OFFICE
from optimizer.report.agents import (
    BENEFIT_COLUMNS,
    allocation_table,
    explanations,
    mileage_eur,
    ranking_table,
    replan_changes,
    travel_times_table,
    weekly_benefits,
    weekly_savings,
    with_robustness,
)
from optimizer.report.run_summary import (
    IDS_SHOWN,
    OBJECTIVE_TEXT,
    off_network_warning,
    plan_notes,
    replan_summary,
    solver_outcome,
    summary,
)
from optimizer.report.shared import pseudonym, shared_reason
from optimizer.report.writing import write_outputs
from optimizer.tables import (
    ALLOCATION_FILE,
    APPROXIMATE_WARNING,
    CHANGES_FILE,
    FRONTIER_FILE,
    GPKG_FILE,
    ILLUSTRATIVE_WARNING,
    MAP_HTML,
    MAP_PNG,
    OWN_FILES,
    RANKING_FILE,
    SCHEDULE_FILE,
    SUMMARY_FILE,
    SYNTHETIC_WARNING,
    TELECENTRES_FILE,
    TRAVEL_FILE,
    made_up,
    telecentre_table,
)
from optimizer.ties import reason_kind

__all__ = [
    "ALLOCATION_FILE",
    "APPROXIMATE_WARNING",
    "BENEFIT_COLUMNS",
    "CHANGES_FILE",
    "CSV_STYLES",
    "FRONTIER_FILE",
    "GPKG_FILE",
    "HEAD_OFFICE",
    "IDS_SHOWN",
    "ILLUSTRATIVE_WARNING",
    "MAP_HTML",
    "MAP_PNG",
    "OBJECTIVE_TEXT",
    "OWN_FILES",
    "RANKING_FILE",
    "SCHEDULE_FILE",
    "SUMMARY_FILE",
    "SYNTHETIC_WARNING",
    "TELECENTRES_FILE",
    "TRAVEL_FILE",
    "CsvStyle",
    "allocation_table",
    "csv_text",
    "explanations",
    "made_up",
    "mileage_eur",
    "neutralise_formulas",
    "off_network_warning",
    "plan_notes",
    "pseudonym",
    "ranking_table",
    "reason_kind",
    "replan_changes",
    "replan_summary",
    "shared_reason",
    "solver_outcome",
    "summary",
    "telecentre_table",
    "travel_times_table",
    "weekly_benefits",
    "weekly_savings",
    "with_robustness",
    "write_outputs",
]
