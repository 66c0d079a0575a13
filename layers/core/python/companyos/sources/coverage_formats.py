"""Coverage report formats as CI tools write them: Cobertura XML (coverage.py `coverage xml`,
Cobertura, ReportGenerator, Istanbul's `cobertura` reporter), lcov tracefiles (`lcov.info`: lcov /
geninfo, Istanbul/nyc/jest/vitest `lcov`, coverage.py `coverage lcov`, ReportGenerator) and JaCoCo XML.

Each parser returns one `CoverageReport`: lines covered / valid (a source line counts once per file,
covered when any record of it has hits), branches when the format has them, files, the report's own
time when it carries one. XML is parsed with defusedxml, streaming: a DOCTYPE is allowed (JaCoCo
always writes one) but never loaded, and any entity declaration is refused (no XXE, no billion
laughs). Anything that is not one of the three formats, or is truncated, is a 422 with a code.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from companyos.domain.errors import InvalidPayload

FORMATS = ("cobertura", "lcov", "jacoco")
_CONDITIONS = re.compile(r"\((\d+)/(\d+)\)")


@dataclass(frozen=True)
class CoverageReport:
    format: str
    lines_covered: int
    lines_valid: int
    files: int
    branches_covered: int | None = None
    branches_valid: int | None = None
    generated_at: datetime | None = None  # the report's own time (lcov has none)
    tool_version: str | None = None


def refused(message: str, code: str, path: str = "") -> InvalidPayload:
    return InvalidPayload(message, code=code, details={"path": path})


def sniff(body: bytes) -> str:
    """cobertura / jacoco by the XML root element, lcov by its records; else 422 unsupported_format."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        root = re.search(rb"<(?![?!])([A-Za-z_][\w.-]*)", head)
        name = root.group(1).decode() if root else ""
        if name in ("coverage", "report"):
            return "cobertura" if name == "coverage" else "jacoco"
        raise refused(
            f"an XML document with root <{name}> is neither Cobertura (<coverage>) nor JaCoCo (<report>)",
            "unsupported_format",
        )
    if re.search(rb"^(TN|SF):", head, re.MULTILINE):
        return "lcov"
    raise refused("the body is not a Cobertura, JaCoCo or lcov report", "unsupported_format")


def parse(body: bytes, fmt: str) -> CoverageReport:
    if fmt not in FORMATS:
        raise refused(f"format '{fmt}' is not supported (one of {', '.join(FORMATS)})", "unsupported_format")
    report = {"cobertura": cobertura, "lcov": lcov, "jacoco": jacoco}[fmt](body)
    if report.lines_valid <= 0:
        raise refused("the report covers no source lines", "empty_report")
    return report


# ---------------------------------------------------------------------------- XML


def _events(body: bytes, root_tag: str, fmt: str) -> Iterator[tuple[str, Element]]:
    """Start/end events of a defused, streaming parse; the root element must be `root_tag`."""
    try:
        events = iterparse(io.BytesIO(body), events=("start", "end"), forbid_dtd=False)
        first = True
        for event, elem in events:
            if first and elem.tag != root_tag:
                raise refused(f"a {fmt} report's root element is <{root_tag}>, not <{elem.tag}>",
                              "unsupported_format")  # fmt: skip
            first = False
            yield event, elem
    except DefusedXmlException as exc:
        raise refused(
            f"the XML declares entities or references external resources, which are refused ({exc})",
            "xml_entities_forbidden",
        ) from exc
    except ParseError as exc:
        raise refused(f"the {fmt} XML is malformed or truncated: {exc}", "malformed_report") from exc


def _int(elem: Element, attr: str, where: str, default: int | None = None) -> int:
    raw = elem.get(attr)
    if raw is None and default is not None:
        return default
    try:
        value = int(float(raw)) if raw is not None else -1
    except ValueError:
        value = -1
    if value < 0:
        raise refused(f"{where}: attribute {attr}='{raw}' is not a count", "invalid_report", where)
    return value


def epoch_time(raw: str | None) -> datetime | None:
    """A Unix timestamp in milliseconds (Cobertura, coverage.py, JaCoCo) or seconds (some writers)."""
    try:
        value = float(raw) if raw else 0.0
    except ValueError:
        return None
    if value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)


def cobertura(body: bytes) -> CoverageReport:
    """Every `<class>`'s `<lines>/<line number hits>` (the per-method copies are not counted again);
    a line of a file in several classes counts once. Branches: `condition-coverage="50% (1/2)"`."""
    lines: dict[tuple[str, str], bool] = {}
    branches: dict[tuple[str, str], tuple[int, int]] = {}
    root: dict[str, Any] = {}
    for event, elem in _events(body, "coverage", "Cobertura"):
        if event == "start" and not root:
            root = dict(elem.attrib) | {"_seen": True}
        if event != "end" or elem.tag != "class":
            continue
        filename = elem.get("filename") or elem.get("name") or ""
        for n, line in enumerate(elem.findall("lines/line")):
            where = f"class[{filename}].lines.{n}"
            number = str(_int(line, "number", where))
            hits = _int(line, "hits", where)
            lines[(filename, number)] = lines.get((filename, number), False) or hits > 0
            cond = _CONDITIONS.search(line.get("condition-coverage") or "")
            if line.get("branch") == "true" and cond:
                covered, valid = int(cond.group(1)), int(cond.group(2))
                old = branches.get((filename, number), (0, 0))
                branches[(filename, number)] = (max(old[0], covered), max(old[1], valid))
        elem.clear()
    return CoverageReport(
        "cobertura",
        sum(lines.values()),
        len(lines),
        len({f for f, _ in lines}),
        sum(c for c, _ in branches.values()) if branches else None,
        sum(v for _, v in branches.values()) if branches else None,
        epoch_time(root.get("timestamp")),
        root.get("version"),
    )


def jacoco(body: bytes) -> CoverageReport:
    """The report's own LINE / BRANCH counters (missed + covered); without them, every
    `<sourcefile>`'s `<line nr mi ci mb cb>` (a line is covered when one of its instructions ran)."""
    totals: dict[str, tuple[int, int]] = {}
    summed = [0, 0, 0, 0]  # lines covered, lines valid, branches covered, branches valid
    files, depth, dumps = 0, 0, []
    for event, elem in _events(body, "report", "JaCoCo"):
        depth += 1 if event == "start" else -1
        if event != "end":
            continue
        if elem.tag == "sessioninfo":
            dumps.append(elem.get("dump"))
        elif elem.tag == "counter" and depth == 1 and elem.get("type") in ("LINE", "BRANCH"):
            where = f"report.counter[{elem.get('type')}]"
            totals[str(elem.get("type"))] = (_int(elem, "covered", where), _int(elem, "missed", where))
        elif elem.tag == "sourcefile":
            files += 1
            for n, nr in enumerate(elem.findall("line")):
                where = f"sourcefile[{elem.get('name')}].line.{n}"
                ci, mb, cb = (_int(nr, a, where, 0) for a in ("ci", "mb", "cb"))
                summed[0] += ci > 0
                summed[1] += 1
                summed[2], summed[3] = summed[2] + cb, summed[3] + mb + cb
            elem.clear()
        elif elem.tag in ("package", "group"):
            elem.clear()
    line = totals.get("LINE")
    branch = totals.get("BRANCH")
    times = [t for t in (epoch_time(d) for d in dumps) if t]
    return CoverageReport(
        "jacoco",
        line[0] if line else summed[0],
        line[0] + line[1] if line else summed[1],
        files,
        branch[0] if branch else (summed[2] if summed[3] else None),
        branch[0] + branch[1] if branch else (summed[3] or None),
        max(times, default=None),
    )


# ---------------------------------------------------------------------------- lcov


def lcov(body: bytes) -> CoverageReport:
    """`SF:` … `end_of_record` records; `DA:<line>,<hits>[,<checksum>]` lines (a line listed twice
    in a file — ReportGenerator writes that for properties — counts once, as lcov merges it),
    `BRDA:<line>,<block>,<branch>,<taken or ->` branches. Other records (TN, FN, FNDA, LF, LH, …)
    are not needed: the totals are counted from the DA lines, not taken from LF/LH."""
    text = body.decode("utf-8-sig", errors="replace")
    lines: dict[tuple[str, int], bool] = {}
    branches: dict[tuple[str, str], bool] = {}
    current: str | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        record = raw.strip()
        tag, _, value = record.partition(":")
        if tag == "SF":
            current = value
        elif record == "end_of_record":
            if current is None:
                raise refused(f"line {n}: end_of_record outside a record", "malformed_report", f"line {n}")
            current = None
        elif tag in ("DA", "BRDA"):
            if current is None:
                raise refused(f"line {n}: {tag} before any SF record", "malformed_report", f"line {n}")
            _lcov_data(tag, value, current, n, lines, branches)
    if current is not None:
        raise refused("the last record has no end_of_record: the tracefile is truncated",
                      "malformed_report", "end_of_record")  # fmt: skip
    return CoverageReport(
        "lcov",
        sum(lines.values()),
        len(lines),
        len({f for f, _ in lines}),
        sum(branches.values()) if branches else None,
        len(branches) if branches else None,
    )


def _lcov_data(
    tag: str,
    value: str,
    file: str,
    n: int,
    lines: dict[tuple[str, int], bool],
    branches: dict[tuple[str, str], bool],
) -> None:
    parts = value.split(",")
    try:
        if tag == "DA":
            line, hits = int(parts[0]), int(float(parts[1]))
            lines[(file, line)] = lines.get((file, line), False) or hits > 0
        else:
            line, block, branch, taken = int(parts[0]), parts[1], parts[2], parts[3]
            hit = taken != "-" and int(float(taken)) > 0
            key = (file, f"{line},{block},{branch}")
            branches[key] = branches.get(key, False) or hit
    except (IndexError, ValueError) as exc:
        raise refused(f"line {n}: '{tag}:{value}' is not a valid {tag} record", "invalid_report",
                      f"line {n}") from exc  # fmt: skip
