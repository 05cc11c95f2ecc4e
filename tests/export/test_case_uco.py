"""CASE/UCO JSON-LD export, checked with case_validate (case-utils, pySHACL)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cyberstalk.case import open_case
from cyberstalk.export.case_uco import build_graph
from helpers.cases import cli, events, make_case

from .test_bagit import zip_bytes

CASE_VALIDATE = Path(sys.executable).parent / "case_validate"


def case_validate(*paths: Path) -> list[subprocess.CompletedProcess[str]]:
    """Run case_validate on each file, in parallel (each run loads the ontology: ~10 s)."""
    procs = [
        subprocess.Popen(
            [str(CASE_VALIDATE), str(p)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in paths
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


@pytest.fixture
def exported(tmp_path: Path, local_tsa) -> tuple[Path, Path]:
    """A case with a zip (members), a timestamp and an earlier export, exported as JSON-LD."""
    root = make_case(
        tmp_path,
        {"IMG_0001.PNG": b"\x89PNG", "chat.zip": zip_bytes({"_chat.txt": b"hi", "a.jpg": b"j"})},
    )
    pem = tmp_path / "root.pem"
    pem.write_bytes(local_tsa.root_pem)
    assert cli("timestamp", root, "--tsa", local_tsa.url, "--tsa-root", pem).exit_code == 0
    assert cli("export", root, "--exhibits", tmp_path / "list.csv").exit_code == 0
    out = tmp_path / "case.jsonld"
    r = cli("export", root, "--case-uco", out)
    assert r.exit_code == 0, r.output
    return root, out


def nodes(doc: dict, type_: str) -> list[dict]:
    return [n for n in doc["@graph"] if n["@type"] == type_]


@pytest.mark.slow
def test_case_uco_export_passes_case_validate(exported, tmp_path):
    """Our graph conforms; the same graph with two exhibit numbers on one provenance
    record does not (so the validator really checks what we wrote)."""
    _root, out = exported
    doc = json.loads(out.read_bytes())
    prov = nodes(doc, "case-investigation:ProvenanceRecord")[0]
    prov["case-investigation:exhibitNumber"] = ["RE/1", "RE/99"]
    bad = tmp_path / "bad.jsonld"
    bad.write_text(json.dumps(doc))
    good_run, bad_run = case_validate(out, bad)
    assert good_run.returncode == 0, good_run.stdout + good_run.stderr
    assert "Conforms: True" in good_run.stdout
    assert "Warning" not in good_run.stderr
    assert bad_run.returncode == 1
    assert "Conforms: False" in bad_run.stdout and "MaxCount" in bad_run.stdout


def test_graph_content(exported):
    root, out = exported
    doc = json.loads(out.read_bytes())
    manifest = json.loads((root / "manifest.json").read_bytes())
    refs = [e["ref"] for e in manifest["exhibits"]]
    provs = nodes(doc, "case-investigation:ProvenanceRecord")
    assert sorted(p["case-investigation:exhibitNumber"] for p in provs) == sorted(refs)
    [inv] = nodes(doc, "case-investigation:Investigation")
    assert inv["uco-core:name"] == "NWP/2026/0142"
    by_id = {n["@id"]: n for n in doc["@graph"]}
    for ex in manifest["exhibits"]:
        [prov] = [p for p in provs if p["case-investigation:exhibitNumber"] == ex["ref"]]
        file_node = by_id[prov["uco-core:object"][0]["@id"]]
        facets = {f["@type"]: f for f in file_node["uco-core:hasFacet"]}
        assert facets["uco-observable:FileFacet"]["uco-observable:fileName"] == ex["original_name"]
        assert facets["uco-observable:FileFacet"]["uco-observable:sizeInBytes"]["@value"] == str(
            ex["size"]
        )
        hashes = {
            h["uco-types:hashMethod"]: h["uco-types:hashValue"]["@value"]
            for h in facets["uco-observable:ContentDataFacet"]["uco-observable:hash"]
        }
        assert hashes["SHA256"] == ex["digests"]["sha256"]
        [action] = [
            a
            for a in nodes(doc, "case-investigation:InvestigativeAction")
            if a.get("uco-action:result") == [{"@id": prov["@id"]}]
        ]
        assert by_id[action["uco-action:performer"]["@id"]]["uco-core:name"] == "DC Rhian Evans"
        tool = by_id[action["uco-action:instrument"]["@id"]]
        assert tool["uco-core:name"] == "cyberstalk" and tool["uco-tool:version"]
        assert action["uco-action:startTime"]["@value"] == ex["received_at"]
        assert action["uco-action:startTime"]["@value"] <= action["uco-action:endTime"]["@value"]
    rels = nodes(doc, "uco-core:Relationship")
    assert len(rels) == 2 and {r["uco-core:kindOfRelationship"] for r in rels} == {
        "Contained_Within"
    }
    names = [a["uco-core:name"] for a in nodes(doc, "case-investigation:InvestigativeAction")]
    prefix = "RFC 3161 timestamp of manifest.json by http://127.0.0.1"
    assert any(n.startswith(prefix) for n in names)
    assert "export exhibits-csv" in names
    # Recorded in the custody log with the bytes' hash.
    ev = events(root, "export_written")[-1]["details"]
    assert ev["format"] == "case-uco"
    assert ev["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_graph_is_deterministic(exported):
    root, _out = exported
    case = open_case(root)
    assert json.dumps(build_graph(case)) == json.dumps(build_graph(case))
