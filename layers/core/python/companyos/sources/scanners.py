"""Security reports uploaded by CI: Trivy JSON (SchemaVersion 2), `snyk test --json`, Gitleaks JSON.

Uploads are signed with the tenant's per-source secret (`X-CompanyOS-Signature: sha256=<hex>`); the
delivery id is the content hash of the report, so uploading the same report twice is a no-op. Each
report is a *snapshot* of one or more scopes (Trivy: the artifact; Snyk: the project; Gitleaks: the
repository named by `X-CompanyOS-Target`). Its findings are parsed here; `ingest` compares them with
the stored finding state to record opened / reopened / fixed transitions (see docs/sources.md).

Secret values are never kept: of a Gitleaks/Trivy secret finding only the rule, file, lines, commit
and fingerprint are stored, never `Secret`, `Match`, the code excerpt, author or e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from companyos.domain import clock
from companyos.domain.errors import InvalidPayload
from companyos.sources.base import (
    ParsedDelivery,
    ReportSnapshot,
    Signal,
    WebhookRequest,
    content_id,
    iso,
    load_json,
    optional_time,
    require,
    short_hash,
    verify_companyos_signature,
)

TARGET_HEADER = "X-CompanyOS-Target"
SEVERITIES = ("critical", "high", "medium", "low")
# Severities outside the four levels (Trivy UNKNOWN, Snyk none) count as low; the raw value is kept.
_SEVERITY_ALIASES = {"moderate": "medium", "negligible": "low", "info": "low", "unknown": "low"}


def normalise_severity(raw: Any) -> str:
    value = str(raw or "unknown").strip().lower()
    return value if value in SEVERITIES else _SEVERITY_ALIASES.get(value, "low")


def finding_key(scanner: str, kind: str, scope: str, *parts: Any) -> str:
    """Stable identity of a finding within its scanner and scope (state item key)."""
    return short_hash(scanner, kind, scope, *parts)


def _target_override(request: WebhookRequest) -> str | None:
    value = (request.header(TARGET_HEADER) or "").strip()
    return value[:512] or None


def _dedupe(signals: Iterable[Signal]) -> list[Signal]:
    """One finding per key (a report may list the same vulnerability for several dependency paths)."""
    seen: dict[str, Signal] = {}
    for s in signals:
        if s.key in seen:
            first = seen[s.key]
            first.attributes["paths"] = int(first.attributes.get("paths", 1)) + 1
        else:
            seen[s.key] = s
    return list(seen.values())


def _vulnerability(
    scanner: str, scope: str, target: str, taken_at: datetime, vuln_id: str, package: str, **attrs: Any
) -> Signal:
    key = finding_key(scanner, "vulnerability", scope, target, vuln_id, package, attrs.get("pkg_path") or "")
    raw = attrs.pop("severity_raw")
    facts = {
        "scanner": scanner,
        "scope": scope,
        "target": target,
        "vuln_id": vuln_id,
        "package": package,
        "severity": normalise_severity(raw),
        "severity_raw": raw,
        **attrs,
    }
    facts["fix_available"] = bool(facts.get("fixed_version"))
    return Signal("vulnerability", taken_at, scope, facts, key=key)


def _secret(scanner: str, scope: str, taken_at: datetime, fingerprint: str, **attrs: Any) -> Signal:
    facts = {"scanner": scanner, "scope": scope, "fingerprint": fingerprint, **attrs}
    return Signal(
        "secret_finding", taken_at, scope, facts, key=finding_key(scanner, "secret", scope, fingerprint)
    )


def _report(
    scanner: str, request: WebhookRequest, scopes: Sequence[str], taken_at: datetime, signals: list[Signal]
) -> ParsedDelivery:
    """The delivery id is the report's content hash (with the scope header, when one names the scope:
    the same report uploaded for two repositories is two deliveries)."""
    override = _target_override(request)
    content = request.body if override is None else override.encode() + b"\n" + request.body
    snapshot = ReportSnapshot(scanner, tuple(sorted(set(scopes))), taken_at)
    return ParsedDelivery("report", content_id(content), _dedupe(signals), snapshot=snapshot)


class _Upload:
    """Shared verification of CI uploads."""

    retention_days = 400

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_companyos_signature(request, secrets)


# ---------------------------------------------------------------------------- Trivy


class TrivySource(_Upload):
    name = "trivy"

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = load_json(request.body)
        if not isinstance(doc, dict):
            raise InvalidPayload("a Trivy JSON report is an object", details={"path": ""})
        version = require(doc, "SchemaVersion")
        if version != 2:
            raise InvalidPayload(
                f"Trivy SchemaVersion {version} is not supported (only 2)", details={"path": "SchemaVersion"}
            )
        scope = _target_override(request) or str(require(doc, "ArtifactName"))
        taken_at = optional_time(doc.get("CreatedAt")) or clock.now()
        results = doc.get("Results") or []
        if not isinstance(results, list):
            raise InvalidPayload("field 'Results' must be a list", details={"path": "Results"})
        signals: list[Signal] = []
        for r, result in enumerate(results):
            target = str(require(doc, f"Results.{r}.Target"))
            for v, vuln in enumerate(result.get("Vulnerabilities") or []):
                path = f"Results.{r}.Vulnerabilities.{v}"
                signals.append(
                    _vulnerability(
                        "trivy",
                        scope,
                        target,
                        taken_at,
                        str(require(doc, f"{path}.VulnerabilityID")),
                        str(require(doc, f"{path}.PkgName")),
                        severity_raw=require(doc, f"{path}.Severity"),
                        version=vuln.get("InstalledVersion"),
                        fixed_version=vuln.get("FixedVersion") or None,
                        vendor_status=vuln.get("Status"),
                        pkg_path=vuln.get("PkgPath"),
                        purl=(vuln.get("PkgIdentifier") or {}).get("PURL"),
                        result_class=result.get("Class"),
                        ecosystem=result.get("Type"),
                        title=vuln.get("Title"),
                        published_at=iso(optional_time(vuln.get("PublishedDate"))),
                        issue_type="vulnerability",
                    )
                )
            for s, secret in enumerate(result.get("Secrets") or []):
                path = f"Results.{r}.Secrets.{s}"
                rule = str(require(doc, f"{path}.RuleID"))
                line = secret.get("StartLine")
                signals.append(
                    _secret(
                        "trivy",
                        scope,
                        taken_at,
                        f"{target}:{rule}:{line}",
                        rule=rule,
                        category=secret.get("Category"),
                        severity=normalise_severity(secret.get("Severity")),
                        title=secret.get("Title"),
                        file=target,
                        start_line=line,
                        end_line=secret.get("EndLine"),
                        commit=None,
                    )
                )
        return _report("trivy", request, [scope], taken_at, signals)


# ---------------------------------------------------------------------------- Snyk


class SnykSource(_Upload):
    name = "snyk"

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = load_json(request.body)
        projects: list[tuple[str, Any]]
        if isinstance(doc, list):  # `snyk test --all-projects --json`
            projects = [(f"{i}.", p) for i, p in enumerate(doc)]
        elif isinstance(doc, dict):
            projects = [("", doc)]
        else:
            raise InvalidPayload("a Snyk report is an object or an array of objects", details={"path": ""})
        override = _target_override(request)
        taken_at = clock.now()  # `snyk test --json` carries no scan time: the upload time
        scopes: list[str] = []
        signals: list[Signal] = []
        for prefix, project in projects:
            if not isinstance(project, dict):
                raise InvalidPayload(
                    "each Snyk project result is an object", details={"path": prefix.rstrip(".")}
                )
            if project.get("ok") is None:
                require(doc, f"{prefix}ok")
            vulns = project.get("vulnerabilities") or []
            scope = override or _snyk_project(project, vulns, prefix)
            target = (
                project.get("displayTargetFile")
                or project.get("targetFile")
                or project.get("packageManager")
                or scope
            )
            scopes.append(scope)
            for v, vuln in enumerate(vulns):
                path = f"{prefix}vulnerabilities.{v}"
                fixed_in = vuln.get("fixedIn") or []
                identifiers = vuln.get("identifiers") or {}
                signals.append(
                    _vulnerability(
                        "snyk",
                        scope,
                        str(target),
                        taken_at,
                        str(require(doc, f"{path}.id")),
                        str(vuln.get("packageName") or require(doc, f"{path}.name")),
                        severity_raw=require(doc, f"{path}.severity"),
                        version=vuln.get("version"),
                        fixed_version=", ".join(str(f) for f in fixed_in) or None,
                        upgradable=vuln.get("isUpgradable"),
                        title=vuln.get("title"),
                        cves=list(identifiers.get("CVE") or []) if isinstance(identifiers, dict) else [],
                        ecosystem=project.get("packageManager"),
                        published_at=iso(optional_time(vuln.get("publicationTime"))),
                        issue_type="license" if vuln.get("type") == "license" else "vulnerability",
                        license=vuln.get("license"),
                    )
                )
        return _report("snyk", request, scopes, taken_at, signals)


def _snyk_project(project: dict[str, Any], vulns: list[Any], prefix: str) -> str:
    if project.get("projectName"):
        return str(project["projectName"])
    for vuln in vulns:  # the root of every dependency path is the project itself: name@version
        root = (vuln.get("from") or [None])[0] if isinstance(vuln, dict) else None
        if root:
            return str(root).rsplit("@", 1)[0] or str(root)
    raise InvalidPayload(
        f"the report names no project: send the {TARGET_HEADER} header or include projectName",
        details={"path": f"{prefix}projectName"},
    )


# ---------------------------------------------------------------------------- Gitleaks


class GitleaksSource(_Upload):
    name = "gitleaks"

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = load_json(request.body)
        if not isinstance(doc, list):
            raise InvalidPayload("a Gitleaks JSON report is an array of findings", details={"path": ""})
        scope = _target_override(request) or "default"
        taken_at = clock.now()  # the report has no scan time: the upload time
        signals = []
        for i, finding in enumerate(doc):
            rule = str(require(doc, f"{i}.RuleID"))
            file = str(require(doc, f"{i}.File"))
            commit = finding.get("Commit") or None
            line = finding.get("StartLine")
            fingerprint = finding.get("Fingerprint") or (
                f"{commit}:{file}:{rule}:{line}" if commit else f"{file}:{rule}:{line}"
            )
            signals.append(
                _secret(
                    "gitleaks",
                    scope,
                    taken_at,
                    str(fingerprint),
                    rule=rule,
                    description=finding.get("Description") or None,
                    file=file,
                    symlink_file=finding.get("SymlinkFile") or None,
                    start_line=line,
                    end_line=finding.get("EndLine"),
                    commit=commit,
                    committed_at=iso(optional_time(finding.get("Date"))),
                    entropy=finding.get("Entropy"),
                    tags=list(finding.get("Tags") or []),
                )
            )
        return _report("gitleaks", request, [scope], taken_at, signals)
