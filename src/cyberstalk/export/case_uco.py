"""The custody graph as CASE/UCO 1.x JSON-LD (https://caseontology.org/).

What the graph says, built from ``manifest.json`` and the custody log:

- one ``case-investigation:Investigation`` named after the case reference;
- per exhibit: a ``uco-observable:File`` (FileFacet: name, path, size; ContentDataFacet:
  MIME type and every digest as ``uco-types:Hash``), a ``case-investigation:
  ProvenanceRecord`` carrying the exhibit number, and the ``InvestigativeAction`` that
  received it (performer, instrument = the tool and version, start and end times);
- archive members linked to their archive by a ``Contained_Within`` relationship;
- the RFC 3161 timestamps and earlier exports recorded in the custody log, as actions
  with the files they produced.

Node IRIs are UUIDv5 names under the ``kb:`` prefix, derived from the case reference and
the thing named, so the same case gives the same graph, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cyberstalk.case import Case, tool_string
from cyberstalk.errors import ReportError
from cyberstalk.export import ExportResult, check_output_parent
from cyberstalk.hashing.custody import events, read_lines
from cyberstalk.hashing.fsutil import atomic_write
from cyberstalk.hashing.manifest import load_manifest

CONTEXT = {
    "kb": "urn:example:cyberstalk:kb:",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
"""``kb:`` is a placeholder namespace; a force publishing graphs should use its own."""

HASH_METHODS = {"sha256": "SHA256", "sha1": "SHA1", "md5": "MD5", "sha512": "SHA512"}
_NAMESPACE = uuid.UUID("6f5c2d1e-8a3b-5c4d-9e7f-0a1b2c3d4e5f")


class _Graph:
    def __init__(self, case_ref: str) -> None:
        self.case_ref = case_ref
        self.nodes: list[dict[str, Any]] = []
        self.ids: set[str] = set()

    def iri(self, kind: str, *key: object) -> str:
        name = "\x1f".join([self.case_ref, kind, *(str(k) for k in key)])
        return f"kb:{kind}-{uuid.uuid5(_NAMESPACE, name)}"

    def add(self, node: dict[str, Any]) -> str:
        if node["@id"] not in self.ids:
            self.ids.add(node["@id"])
            self.nodes.append(node)
        return str(node["@id"])


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def _time(value: str) -> dict[str, str]:
    return {"@type": "xsd:dateTime", "@value": value}


def _hashes(g: _Graph, owner: str, digests: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    for alg in ("sha256", "sha512", "sha1", "md5"):
        value = digests.get(alg)
        if value:
            out.append(
                {
                    "@id": g.iri("Hash", owner, alg),
                    "@type": "uco-types:Hash",
                    # A plain string: SHACL's sh:in matches HashNameVocab members
                    # only as xsd:string literals.
                    "uco-types:hashMethod": HASH_METHODS[alg],
                    "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": value.lower()},
                }
            )
    return out


def _file(
    g: _Graph,
    key: str,
    *,
    name: str | None,
    path: str | None,
    size: int | None,
    digests: Mapping[str, str],
    mime: str | None = None,
) -> str:
    iri = g.iri("File", key)
    file_facet: dict[str, Any] = {
        "@id": g.iri("FileFacet", key),
        "@type": "uco-observable:FileFacet",
    }
    if name is not None:
        file_facet["uco-observable:fileName"] = name
    if path is not None:
        file_facet["uco-observable:filePath"] = path
    if size is not None:
        file_facet["uco-observable:sizeInBytes"] = {"@type": "xsd:integer", "@value": str(size)}
    content: dict[str, Any] = {
        "@id": g.iri("ContentDataFacet", key),
        "@type": "uco-observable:ContentDataFacet",
        "uco-observable:hash": _hashes(g, key, digests),
    }
    if mime:
        content["uco-observable:mimeType"] = mime
    if size is not None:
        content["uco-observable:sizeInBytes"] = {"@type": "xsd:integer", "@value": str(size)}
    g.add(
        {
            "@id": iri,
            "@type": "uco-observable:File",
            "uco-core:hasFacet": [file_facet, content],
        }
    )
    return iri


def _person(g: _Graph, name: str) -> str:
    return g.add(
        {"@id": g.iri("Person", name), "@type": "uco-identity:Person", "uco-core:name": name}
    )


def _tool(g: _Graph, tool: str) -> str:
    name, _, version = tool.partition(" ")
    node: dict[str, Any] = {
        "@id": g.iri("Tool", tool),
        "@type": "uco-tool:Tool",
        "uco-core:name": name or tool,
    }
    if version:
        node["uco-tool:version"] = version
    return g.add(node)


def build_graph(case: Case) -> dict[str, Any]:
    """The JSON-LD document for a case (pure: same case, same document)."""
    manifest = load_manifest(case.manifest_path)
    cfg = case.config
    log_events = events(read_lines(case.custody_path))
    by_seq = {e.get("seq"): e for e in log_events}
    g = _Graph(cfg.reference)
    investigation = g.iri("Investigation", cfg.reference)
    inv_node: dict[str, Any] = {
        "@id": investigation,
        "@type": "case-investigation:Investigation",
        "uco-core:name": cfg.reference,
        "uco-core:description": f"Digital stalking investigation, {cfg.force}; officer in "
        f"the case {cfg.officer}",
        "case-investigation:investigationForm": "case",
        "uco-core:object": [],
    }
    g.add(inv_node)
    members: list[str] = inv_node["uco-core:object"]
    _person(g, cfg.officer)
    file_iris: dict[str, str] = {}
    for ex in manifest.get("exhibits", []):
        ref = str(ex["ref"])
        file_iri = _file(
            g,
            f"exhibit {ref}",
            name=ex.get("original_name"),
            path=ex.get("member_name") or ex.get("original_path"),
            size=ex.get("size"),
            digests=ex.get("digests", {}),
            mime=ex.get("mime"),
        )
        file_iris[ref] = file_iri
        prov = g.add(
            {
                "@id": g.iri("ProvenanceRecord", ref),
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:exhibitNumber": ref,
                "uco-core:description": (
                    f"{ex.get('original_name')} stored as {ex.get('stored_as')}"
                ),
                "uco-core:object": [_ref(file_iri)],
            }
        )
        event = by_seq.get(ex.get("custody_seq"), {})
        end = str(event.get("time") or ex.get("received_at"))
        start = str(ex.get("received_at") or end)
        description = f"source: {ex.get('source')}"
        if ex.get("received_from"):
            description += f"; received from: {ex.get('received_from')}"
        if ex.get("parent"):
            description += f"; member {ex.get('member_name')} of archive {ex.get('parent')}"
        action = g.add(
            {
                "@id": g.iri("InvestigativeAction", "receive", ref),
                "@type": "case-investigation:InvestigativeAction",
                "uco-core:name": f"receive, copy and hash exhibit {ref}",
                "uco-core:description": description,
                "uco-action:startTime": _time(start),
                "uco-action:endTime": _time(end),
                "uco-action:performer": _ref(_person(g, str(ex.get("operator") or cfg.officer))),
                "uco-action:instrument": _ref(_tool(g, str(ex.get("tool") or tool_string()))),
                "uco-action:object": [_ref(file_iri)],
                "uco-action:result": [_ref(prov)],
            }
        )
        members.extend([action, prov])
    for ex in manifest.get("exhibits", []):
        parent = ex.get("parent")
        if parent and parent in file_iris:
            rel = g.add(
                {
                    "@id": g.iri("Relationship", ex["ref"], parent),
                    "@type": "uco-core:Relationship",
                    "uco-core:source": [_ref(file_iris[str(ex["ref"])])],
                    "uco-core:target": _ref(file_iris[parent]),
                    "uco-core:kindOfRelationship": "Contained_Within",
                    "uco-core:isDirectional": True,
                }
            )
            members.append(rel)
    for ev in log_events:
        name = ev.get("event")
        details = ev.get("details") or {}
        seq = ev.get("seq")
        if name == "timestamp":
            manifest_file = _file(
                g,
                f"manifest {details.get('manifest_sha256')}",
                name="manifest.json",
                path=(details.get("files") or {}).get("manifest", {}).get("path"),
                size=None,
                digests={"sha256": str(details.get("manifest_sha256"))},
            )
            tsr = (details.get("files") or {}).get("tsr", {})
            token = _file(
                g,
                f"token {seq}",
                name=Path(str(tsr.get("path"))).name,
                path=tsr.get("path"),
                size=None,
                digests={"sha256": str(tsr.get("sha256"))},
                mime="application/timestamp-reply",
            )
            action_name = f"RFC 3161 timestamp of manifest.json by {details.get('tsa')}"
            action_desc = f"TSA genTime {details.get('gen_time')}, serial {details.get('serial')}"
            objects, results = [_ref(manifest_file)], [_ref(token)]
        elif name == "export_written":
            out = _file(
                g,
                f"export {seq}",
                name=Path(str(details.get("path"))).name,
                path=str(details.get("path")),
                size=None,
                digests={"sha256": str(details.get("sha256"))},
            )
            action_name = f"export {details.get('format')}"
            action_desc = f"{details.get('exhibits')} exhibits"
            objects, results = [], [_ref(out)]
        else:
            continue
        node: dict[str, Any] = {
            "@id": g.iri("InvestigativeAction", name, seq),
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": action_name,
            "uco-core:description": action_desc,
            "uco-action:startTime": _time(str(ev.get("time"))),
            "uco-action:endTime": _time(str(ev.get("time"))),
            "uco-action:performer": _ref(_person(g, str(ev.get("actor")))),
            "uco-action:instrument": _ref(_tool(g, str(ev.get("tool")))),
            "uco-action:result": results,
        }
        if objects:
            node["uco-action:object"] = objects
        members.append(g.add(node))
    inv_node["uco-core:object"] = [_ref(m) for m in members]
    return {"@context": CONTEXT, "@graph": g.nodes}


def write_case_uco(case: Case, out: Path) -> ExportResult:
    """Write the JSON-LD document to ``out`` (replaced atomically)."""
    check_output_parent(out)
    if out.is_dir():
        raise ReportError(f"{out} is a folder", advice="give a file name such as case.jsonld")
    doc = build_graph(case)
    data = (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    atomic_write(out, data)
    exhibits = sum(
        1 for n in doc["@graph"] if n.get("@type") == "case-investigation:ProvenanceRecord"
    )
    return ExportResult(
        format="case-uco",
        path=out,
        sha256=hashlib.sha256(data).hexdigest(),
        exhibits=exhibits,
        details={"nodes": len(doc["@graph"]), "bytes": len(data)},
    )


__all__ = ["CONTEXT", "build_graph", "write_case_uco"]
