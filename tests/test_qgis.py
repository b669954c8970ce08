"""``assignment.gpkg`` opens in QGIS (issue 27): GDAL's ``ogrinfo`` lists it, QGIS draws it styled.

The tools are system packages (Debian ``gdal-bin`` and ``python3-qgis``, which
``.ci/run`` installs): in CI (``CI=true``) a missing one fails the test; on a
machine without them the test is skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.gpkg import LAYERS
from optimizer.report import GPKG_FILE

#: The system Python that Debian's python3-qgis is built for.
QGIS_PYTHON = "/usr/bin/python3"


def _missing(what: str) -> None:
    """Fail in CI, where .ci/run installs ``what``; skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed: .ci/run installs it")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module", params=["en", "fr"])
def gpkg(request, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp(f"qgis-{request.param}") / "out"
    result = CliRunner().invoke(main, ["--out", str(out), "-q", "--lang", request.param])
    assert result.exit_code == 0, result.output
    return out / GPKG_FILE


def _ogrinfo(path: Path) -> dict[str, dict[str, object]]:
    """Each layer ogrinfo lists: its geometry, feature count and fields (name: type)."""
    if shutil.which("ogrinfo") is None:
        _missing("GDAL's ogrinfo (Debian gdal-bin)")
    done = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True
    )
    assert "ERROR" not in done.stderr, done.stderr
    layers: dict[str, dict[str, object]] = {}
    for block in done.stdout.split("Layer name: ")[1:]:
        name = block.splitlines()[0].strip()
        geometry = re.search(r"^Geometry: (.+)$", block, re.MULTILINE)
        count = re.search(r"^Feature Count: (\d+)$", block, re.MULTILINE)
        fields = dict(
            re.findall(
                r"^(\S[^:\n]*): (String|Integer64|Integer|Real|Date|DateTime)", block, re.MULTILINE
            )
        )
        assert count is not None, block
        layers[name] = {
            "geometry": geometry.group(1) if geometry else None,
            "count": int(count.group(1)),
            "fields": fields,
        }
    return layers


def test_ogrinfo_lists_the_layers_with_their_fields_and_counts(gpkg) -> None:
    listed = _ogrinfo(gpkg)
    assert [n for n in listed if n != "layer_styles"] == list(LAYERS)
    assert listed["communes"]["geometry"] == "Multi Polygon"
    for name in ("telecentres", "head_office", "allocation"):
        assert listed[name]["geometry"] == "Point"
    for name in LAYERS:
        read = pyogrio.read_dataframe(gpkg, layer=name)
        assert listed[name]["count"] == len(read) > 0
        assert list(listed[name]["fields"]) == [c for c in read.columns if c != "geometry"]
    assert listed["head_office"]["count"] == 1


def _root(qml: str) -> ET.Element:
    return ET.fromstring(qml.split("\n", 1)[1] if qml.startswith("<!DOCTYPE") else qml)


def _fields_a_style_reads(qml: str) -> set[str]:
    root = _root(qml)
    read = {e.get("attr") for e in root.iter() if e.get("attr")}  # a renderer's attribute
    read |= {e.get("fieldName") for e in root.iter() if e.get("fieldName")}  # a label's
    for option in root.iter("Option"):  # a data-defined size: 3 + 0.8 * sqrt("assigned")
        if option.get("name") == "expression":
            read |= set(re.findall(r'"([^"]+)"', option.get("value", "")))
    return {str(f).strip('"') for f in read}


def test_each_layer_has_one_style_naming_only_its_fields(gpkg) -> None:
    listed = _ogrinfo(gpkg)
    with sqlite3.connect(gpkg) as db:
        rows = db.execute(
            "SELECT f_table_name, styleQML, useAsDefault FROM layer_styles"
        ).fetchall()
    db.close()
    assert sorted(r[0] for r in rows) == sorted(LAYERS)
    for name, qml, default in rows:
        assert default == 1
        read = _fields_a_style_reads(qml)
        assert read <= set(listed[name]["fields"]), (name, read - set(listed[name]["fields"]))
        renderer = _root(qml).find("renderer-v2")
        if renderer.get("type") != "singleSymbol":  # colours by a field: that field is there
            assert renderer.get("attr") in listed[name]["fields"], name


RENDER = r"""
import json, os, sys
from qgis.core import QgsApplication, QgsMapRendererSequentialJob, QgsMapSettings, QgsRectangle
from qgis.core import QgsVectorLayer
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

gpkg, png, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
app = QgsApplication([], False)
app.initQgis()
layers, info = [], {}
for name in names:
    layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
    message, loaded = layer.loadDefaultStyle()
    info[name] = {
        "valid": layer.isValid(), "features": layer.featureCount(), "loaded": loaded,
        "from": message, "renderer": layer.renderer().type() if layer.renderer() else None,
    }
    layers.append(layer)
settings = QgsMapSettings()
settings.setLayers(layers)  # the first on top
settings.setBackgroundColor(QColor(255, 255, 255))
settings.setOutputSize(QSize(600, 600))
settings.setDestinationCrs(layers[0].crs())
extent = QgsRectangle()
for layer in layers:
    extent.combineExtentWith(layer.extent())
extent.scale(1.05)
settings.setExtent(extent)
job = QgsMapRendererSequentialJob(settings)
job.start()
job.waitForFinished()
job.renderedImage().save(png, "png")
print(json.dumps(info))
sys.stdout.flush()
os._exit(0)  # QgsApplication.exitQgis() crashes PyQGIS 3.22 on the way out
"""


def _qgis() -> None:
    if not Path(QGIS_PYTHON).exists():
        _missing(QGIS_PYTHON)
    probe = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True)
    if probe.returncode != 0:
        _missing("QGIS's Python API (Debian python3-qgis)")


def test_qgis_draws_every_layer_with_its_stored_style(gpkg, tmp_path) -> None:
    """QGIS opens each layer, takes its style from the GeoPackage, and draws a map that is not
    blank, in the colours of the styles (the telecentres' blue, the communes' green ramp)."""
    _qgis()
    png = tmp_path / "qgis.png"
    order = ["head_office", "telecentres", "allocation", "communes"]
    assert sorted(order) == sorted(LAYERS)
    done = subprocess.run(
        [QGIS_PYTHON, "-c", RENDER, str(gpkg), str(png), ",".join(order)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    info = json.loads(done.stdout.strip().splitlines()[-1])
    with sqlite3.connect(gpkg) as db:
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall())
    db.close()
    for name in LAYERS:
        assert info[name]["valid"] and info[name]["loaded"], (name, info[name])
        assert info[name]["features"] == len(pyogrio.read_dataframe(gpkg, layer=name))
        assert info[name]["renderer"] == _root(styles[name]).find("renderer-v2").get("type")
    import matplotlib.image as mpimg

    pixels = (mpimg.imread(png)[..., :3] * 255).round().astype(int)
    drawn = np.any(pixels < 250, axis=-1).mean()
    assert drawn > 0.2, f"only {drawn:.1%} of the picture is drawn"

    def share(rgb: tuple[int, int, int]) -> float:
        return float(np.all(np.abs(pixels - np.array(rgb)) <= 3, axis=-1).mean())

    def fills(name: str) -> set[tuple[int, int, int]]:
        options = _root(styles[name]).iter("Option")
        colours = {o.get("value") for o in options if o.get("name") == "color"}
        return {tuple(int(v) for v in c.split(",")[:3]) for c in colours}

    assert fills("telecentres") == {(31, 95, 168)}  # #1f5fa8 as in map.html
    assert share((31, 95, 168)) > 0.001
    ramp = fills("communes")
    assert len(ramp) >= 3
    assert sum(share(c) for c in ramp) > 0.2  # the communes, filled in their classes' colours
