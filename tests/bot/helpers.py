"""Small builders shared by the bot's unit tests."""

from __future__ import annotations

from checks.findings import FileReport, Finding, Report, Severity

PATH = "compositional_skills/linguistics/antonyms/qna.yaml"


def finding(check: str = "schema", severity: Severity = Severity.ERROR, line: int | None = 5,
            message: str = "too few examples", path: str = PATH) -> Finding:
    return Finding(check, severity, message, path, line, 3 if line else None)


def report(*findings: Finding, pr_findings: tuple[Finding, ...] = (), path: str = PATH) -> Report:
    return Report(files=[FileReport(path=path, source=path, kind="skill", schema_version=3,
                                    findings=list(findings))], findings=list(pr_findings))
