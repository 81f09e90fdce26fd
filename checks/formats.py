"""Render a report: `text` for people, `json` (the contract), `github` annotations, `sarif`."""

from __future__ import annotations

import json
from collections.abc import Callable

from checks.findings import Finding, Report, Severity
from checks.registry import BY_ID

TOOL_URI = "https://github.com/taxonomist/taxonomist"


def _where(f: Finding) -> str:
    out = f.path or ""
    if f.line is not None:
        out += f":{f.line}"
        if f.column is not None:
            out += f":{f.column}"
    return out


def render_text(report: Report) -> str:
    lines: list[str] = []
    for fr in report.files:
        for f in fr.findings:
            at = f" [{f.yaml_path}]" if f.yaml_path and f.yaml_path != "." else ""
            lines.append(f"{_where(f)}: {f.severity}: {f.check}:{at} {f.message}")
    for f in report.findings:
        lines.append(f"{f.severity}: {f.check}: {f.message}")
    lines.append(report.summary_line())
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """Workflow commands; `file=` is the path as given, which is the repository path in a workflow."""
    command = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for fr in report.files:
        for f in fr.findings:
            props = [f"file={_escape_property(fr.source)}"]
            if f.line is not None:
                props.append(f"line={f.line}")
            if f.column is not None:
                props.append(f"col={f.column}")
            props.append(f"title={_escape_property(f.check)}")
            lines.append(f"::{command[f.severity]} {','.join(props)}::{_escape_data(f.message)}")
    for f in report.findings:
        lines.append(f"::{command[f.severity]} title={_escape_property(f.check)}::{_escape_data(f.message)}")
    lines.append(report.summary_line())
    return "\n".join(lines) + "\n"


def render_sarif(report: Report) -> str:
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    rules = sorted({f.check for f in report.all_findings()})
    rule_index = {rule: i for i, rule in enumerate(rules)}
    results = []
    for fr in report.files:
        for f in fr.findings:
            region: dict[str, int] = {}
            if f.line is not None:
                region["startLine"] = f.line
                if f.column is not None:
                    region["startColumn"] = f.column
            location: dict = {"physicalLocation": {"artifactLocation": {"uri": fr.source}}}
            if region:
                location["physicalLocation"]["region"] = region
            if f.yaml_path:
                location["logicalLocations"] = [{"fullyQualifiedName": f.yaml_path, "kind": "member"}]
            results.append({"ruleId": f.check, "ruleIndex": rule_index[f.check], "level": level[f.severity],
                            "message": {"text": f.message}, "locations": [location]})
    for f in report.findings:
        results.append({"ruleId": f.check, "ruleIndex": rule_index[f.check], "level": level[f.severity],
                        "message": {"text": f.message}})
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "taxonomist",
                "informationUri": TOOL_URI,
                "rules": [{"id": r, "name": r,
                           "shortDescription": {"text": BY_ID[r].summary if r in BY_ID else r}}
                          for r in rules],
            }},
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}
