"""Geocoding against a local stand-in for the BAN batch CSV service."""

from __future__ import annotations

import csv
import email.parser
import email.policy
import io
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.errors import NetworkError
from optimizer.geocode import geocode_addresses
from optimizer.inputs import read_agents

KNOWN = {  # address -> (lat, lon, score, label, type)
    "2 rue de la rovere mende": (
        "44.5180",
        "3.5010",
        "0.93",
        "2 Rue de la Rovère 48000 Mende",
        "housenumber",
    ),
    "place du marche langogne": (
        "44.7270",
        "3.8550",
        "0.41",
        "Place du Marché 48300 Langogne",
        "street",
    ),
}


class _Ban(BaseHTTPRequestHandler):
    received: list[dict[str, str]] = []  # noqa: RUF012 - the requests seen, for the tests

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
        data = parts["data"].get_payload(decode=True).decode("utf-8")
        fields = {k: v.get_payload(decode=True).decode() for k, v in parts.items() if k != "data"}
        type(self).received.append({"csv": data, **fields})
        rows = list(csv.DictReader(io.StringIO(data)))
        out = io.StringIO()
        names = [
            *rows[0].keys(),
            "latitude",
            "longitude",
            "result_score",
            "result_label",
            "result_type",
        ]
        writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            hit = KNOWN.get(row["adresse"].lower().replace(",", ""), ("", "", "", "", ""))
            writer.writerow({**row, **dict(zip(names[-5:], hit, strict=True))})
        payload = out.getvalue().encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ban():
    _Ban.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ban)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        "agent_id;nom;adresse;commune;telework_days\n"
        "A1;Alice Martin;2 rue de la Rovere, Mende;;1\n"
        "A2;Bruno Roux;Place du Marche, Langogne;Langogne;1\n"
        "A3;Chloé Vidal;12 chemin inconnu, Nulle-Part;Meyrueis;2\n",
        encoding="utf-8",
    )
    return path


def test_geocode_places_flags_and_sends_only_addresses(tmp_path, ban) -> None:
    out = tmp_path / "geocoded.csv"
    cache = tmp_path / "cache"
    args = ["geocode", str(_roster(tmp_path)), "--out", str(out), "--url", ban]
    result = CliRunner().invoke(main, [*args, "--cache-dir", str(cache)])
    assert result.exit_code == 0, result.output
    assert "1 of 3 rows placed at their address; 1 low score, 1 not found" in result.output
    assert "row 3: low score (0.41" in result.output and "row 4: not found" in result.output
    coded = pd.read_csv(out, keep_default_na=False)
    assert coded["geocode_status"].tolist() == ["ok", "low score", "not found"]
    assert coded.loc[0, "lon"] == "3.501" and coded.loc[1, "lon"] == ""
    assert coded["nom"].tolist()[0] == "Alice Martin"  # the planner's file keeps its columns
    # the service saw the addresses and nothing else
    (request,) = _Ban.received
    sent = pd.read_csv(io.StringIO(request["csv"]))
    assert list(sent.columns) == ["adresse"] and len(sent) == 3
    assert "Alice" not in request["csv"] and "A1" not in request["csv"]
    assert request["columns"] == "adresse"
    # the geocoded roster runs: A1 at its address, the others at their commune
    agents = read_agents(out)
    assert agents["location"].tolist() == ["address", "commune", "commune"]
    assert agents.loc[0, "location_precision_m"] == 30
    # a second run asks the service nothing: every answer is cached
    again = CliRunner().invoke(main, [*args, "--cache-dir", str(cache), "-q"])
    assert again.exit_code == 0 and len(_Ban.received) == 1


def test_geocode_reads_headers_as_typed(tmp_path, ban) -> None:
    # 'Adresse postale' and 'Code postal', as a personnel file heads them: the postcode
    # narrows the search, as with code_postal
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Matricule;Adresse postale;Code Postal\nA1;2 rue de la Rovere, Mende;48000\n",
        encoding="utf-8",
    )
    out = tmp_path / "geocoded.csv"
    args = ["geocode", str(roster), "--out", str(out), "--url", ban, "-q"]
    result = CliRunner().invoke(main, [*args, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    (request,) = _Ban.received
    assert list(pd.read_csv(io.StringIO(request["csv"])).columns) == ["adresse", "code_postal"]
    assert request["postcode"] == "code_postal"


def test_geocode_offline_is_one_line_pointing_to_communes(tmp_path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["geocode", str(_roster(tmp_path)), "--out", str(tmp_path / "g.csv")]
    result = CliRunner().invoke(
        main, [*args, "--url", f"http://127.0.0.1:{port}", "--cache-dir", str(tmp_path), "-q"]
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert "cannot be reached" in result.output and "commune, insee or code_postal" in result.output
    with pytest.raises(NetworkError):
        geocode_addresses(["x"], base_url=f"http://127.0.0.1:{port}", cache_dir=tmp_path)
