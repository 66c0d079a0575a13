"""Coverage reports as CI writes them (shared/fixtures/real/coverage/: coverage.py's gold Cobertura,
ReportGenerator's Cobertura 2.1.1 / JaCoCo 0.8.3 / C# and C++ lcov, diff_cover's Python lcov): one
`coverage_report` signal per upload, lines counted as the tools count them. Expected numbers are
plain counts over the fixture text, worked out here; odd or hostile bodies are a 422 with a code."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

import pytest
from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources import registry
from companyos.sources.base import hmac_sha256_hex

from tests.conftest import real_fixture
from tests.unit.sources.helpers import request

REPO = "acme/payments"
COBERTURA = (
    "coverage/coveragepy-gold-y_xml_branch-cobertura.xml",
    "coverage/reportgenerator-Cobertura2.1.1-java.xml",
)
LCOV = (
    "coverage/diffcover-real_python_coverage.lcov",
    "coverage/reportgenerator-cpp-lcov.info",
    "coverage/reportgenerator-csharp-lcov.info",
)
JACOCO = "coverage/reportgenerator-JaCoCo0.8.3.xml"


def parse(body: bytes, **headers: str):
    return registry.get("coverage").parse(request(body, X_CompanyOS_Target=REPO, **headers))


def one(body: bytes, **headers: str):
    (signal,) = parse(body, **headers).signals
    return signal


def cobertura_lines(text: str) -> tuple[int, int, int, int]:
    """(covered, valid, branches covered, branches valid): the <line> elements of each <class>'s own
    <lines> (not its methods' copies), one per file and line number, covered when hits > 0; branches
    from their condition-coverage "(a/b)"."""
    lines: dict[tuple[str, str], bool] = {}
    branches: dict[tuple[str, str], tuple[int, int]] = {}
    for filename, body in re.findall(r'<class [^>]*filename="([^"]+)"[^>]*>(.*?)</class>', text, re.S):
        own = body.rsplit("</methods>", 1)[-1]
        for line in re.findall(r"<line [^>]*>", own):
            number = re.search(r'number="(\d+)"', line).group(1)  # type: ignore[union-attr]
            hits = int(re.search(r'hits="(\d+)"', line).group(1))  # type: ignore[union-attr]
            lines[(filename, number)] = lines.get((filename, number), False) or hits > 0
            cond = re.search(r'condition-coverage="\d+% \((\d+)/(\d+)\)"', line)
            if cond:
                branches[(filename, number)] = (int(cond.group(1)), int(cond.group(2)))
    bc, bv = sum(c for c, _ in branches.values()), sum(v for _, v in branches.values())
    return sum(lines.values()), len(lines), bc, bv


def lcov_lines(text: str) -> tuple[int, int]:
    """(covered, valid): DA:<line>,<hits> per SF record, a line listed twice in a file counted once."""
    lines: dict[tuple[str, int], bool] = {}
    sf = ""
    for raw in text.splitlines():
        if raw.startswith("SF:"):
            sf = raw[3:]
        elif raw.startswith("DA:"):
            number, hits = raw[3:].split(",")[:2]
            lines[(sf, int(number))] = lines.get((sf, int(number)), False) or int(hits) > 0
    return sum(lines.values()), len(lines)


@pytest.mark.parametrize("fixture", COBERTURA)
def test_cobertura_lines_are_each_classes_lines_and_the_time_is_the_reports(fixture):
    body = real_fixture(fixture)
    s = one(body)
    text = body.decode()
    covered, valid, bc, bv = cobertura_lines(text)
    assert (s.attributes["lines_covered"], s.attributes["lines_valid"]) == (covered, valid)
    assert (s.attributes["branches_covered"], s.attributes["branches_valid"]) == (bc, bv)
    # the writer's own totals agree
    root = re.search(r"<coverage [^>]*>", text).group(0)  # type: ignore[union-attr]
    assert f'lines-covered="{covered}"' in root and f'lines-valid="{valid}"' in root
    ms = int(re.search(r'timestamp="(\d+)"', root).group(1))  # type: ignore[union-attr]
    assert s.occurred_at == datetime.fromtimestamp(ms / 1000, UTC) and s.attributes["time_from"] == "report"
    assert s.kind == "coverage_report" and s.entity == REPO and s.attributes["format"] == "cobertura"


def test_coverage_py_branches_are_its_condition_coverage():
    s = one(real_fixture(COBERTURA[0]))
    assert (s.attributes["branches_covered"], s.attributes["branches_valid"]) == (1, 2)  # "50% (1/2)"
    assert s.attributes["files"] == 1 and s.attributes["tool_version"] == "5.0a2"


@pytest.mark.parametrize("fixture", LCOV)
def test_lcov_lines_are_its_da_records_and_the_time_is_the_upload(fixture):
    from companyos.domain import clock

    body = real_fixture(fixture)
    before = clock.now()
    s = one(body)
    assert (s.attributes["lines_covered"], s.attributes["lines_valid"]) == lcov_lines(
        body.decode("utf-8-sig")
    )
    assert s.attributes["format"] == "lcov" and s.attributes["time_from"] == "upload"
    assert before <= s.occurred_at <= clock.now()
    assert s.attributes["files"] == len(set(re.findall(r"^SF:(.*)$", body.decode(), re.M)))


def test_a_line_reportgenerator_lists_twice_counts_once_not_as_its_lf_says():
    body = real_fixture(LCOV[2]).decode("utf-8-sig")
    stated = sum(int(v) for v in re.findall(r"^LF:(\d+)$", body, re.M))
    s = one(body.encode())
    assert s.attributes["lines_valid"] == lcov_lines(body)[1] < stated  # DA:46,0 twice in one file


def test_lcov_branches_are_brda_records_with_dash_not_taken():
    body = real_fixture(LCOV[2]).decode("utf-8-sig")
    valid, taken, sf = set(), set(), ""
    for raw in body.splitlines():
        sf = raw[3:] if raw.startswith("SF:") else sf
        if raw.startswith("BRDA:"):
            line, block, branch, hits = raw[5:].split(",")
            valid.add((sf, line, block, branch))
            if hits != "-" and int(hits) > 0:
                taken.add((sf, line, block, branch))
    assert valid, "the C# tracefile has BRDA records"
    s = one(body.encode())
    assert (s.attributes["branches_covered"], s.attributes["branches_valid"]) == (len(taken), len(valid))


def test_jacoco_lines_are_its_sourcefile_lines_with_an_instruction_covered():
    body = real_fixture(JACOCO)
    text = body.decode()
    lines = re.findall(r'<line nr="\d+" mi="(\d+)" ci="(\d+)" mb="(\d+)" cb="(\d+)"/>', text)
    s = one(body)
    assert s.attributes["lines_valid"] == len(lines)
    assert s.attributes["lines_covered"] == sum(1 for _, ci, _, _ in lines if int(ci) > 0)
    assert s.attributes["branches_valid"] == sum(int(mb) + int(cb) for _, _, mb, cb in lines)
    dump = max(int(d) for d in re.findall(r'dump="(\d+)"', text))
    assert s.occurred_at == datetime.fromtimestamp(dump / 1000, UTC) and s.attributes["format"] == "jacoco"
    assert s.attributes["files"] == text.count("<sourcefile ")


def test_the_format_header_agrees_with_the_body_and_a_wrong_one_is_refused():
    body = real_fixture(JACOCO)
    assert one(body, X_CompanyOS_Format="jacoco").attributes["format"] == "jacoco"
    with pytest.raises(InvalidPayload) as exc:
        parse(body, X_CompanyOS_Format="cobertura")
    assert exc.value.code == "unsupported_format" and exc.value.status == 422
    with pytest.raises(InvalidPayload) as exc:
        parse(body, X_CompanyOS_Format="clover")
    assert exc.value.code == "unsupported_format"


def test_the_delivery_is_the_digest_of_repository_commit_and_report():
    body = real_fixture(LCOV[0])
    a, b = parse(body), parse(body)
    assert a.delivery_id == b.delivery_id  # a retried CI step is the same delivery
    assert parse(body, X_CompanyOS_Commit="a" * 40).delivery_id != a.delivery_id
    other = registry.get("coverage").parse(request(body, X_CompanyOS_Target="acme/other"))
    assert other.delivery_id != a.delivery_id
    assert one(body, X_CompanyOS_Commit="0123abc").attributes["commit"] == "0123abc"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE coverage [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<coverage line-rate="1" lines-covered="1" lines-valid="1" timestamp="1534849423448" version="7.4">
  <packages><package name="."><classes><class filename="&secret;" name="x">
    <lines><line hits="1" number="1"/></lines>
  </class></classes></package></packages>
</coverage>"""
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE coverage [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<coverage timestamp="1534849423448"><packages><package><classes><class filename="&b;">
<lines><line hits="1" number="1"/></lines></class></classes></package></packages></coverage>"""


@pytest.mark.parametrize("body", [XXE, BOMB], ids=["external-entity", "entity-expansion"])
def test_an_xml_entity_is_refused_never_resolved(body):
    with pytest.raises(InvalidPayload) as exc:
        parse(body)
    assert exc.value.status == 422 and exc.value.code == "xml_entities_forbidden"
    assert "root:" not in exc.value.message  # nothing of /etc/passwd


def test_an_external_dtd_is_never_fetched():
    """JaCoCo always writes `<!DOCTYPE report ... "report.dtd">`: allowed, never loaded (a DTD
    pointing at an unroutable address parses without a connection attempt)."""
    body = real_fixture(JACOCO).replace(b'"report.dtd"', b'"http://198.51.100.1/report.dtd"')
    assert one(body).attributes["lines_valid"] > 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<coverage><packages><package>", "malformed_report"),  # truncated XML
        (b"<html><body>502 Bad Gateway</body></html>", "unsupported_format"),
        (b'{"totals": {"percent_covered": 80}}', "unsupported_format"),  # coverage.py JSON: not taken
        (b"SF:a.py\nDA:1,1\n", "malformed_report"),  # no end_of_record: truncated
        (b"SF:a.py\nDA:one,1\nend_of_record\n", "invalid_report"),
        (b"DA:1,1\nend_of_record\n", "unsupported_format"),  # DA outside any SF record
        (b"TN:\nSF:a.py\nend_of_record\n", "empty_report"),
        (b'<coverage><packages><package><classes><class filename="a"><lines><line number="1" hits="x"/>'
         b"</lines></class></classes></package></packages></coverage>", "invalid_report"),
        (b'<report name="x"><counter type="LINE" missed="a" covered="1"/></report>', "invalid_report"),
    ],
)  # fmt: skip
def test_odd_bodies_are_refused_with_a_code(body, code):
    with pytest.raises(InvalidPayload) as exc:
        parse(body)
    assert exc.value.status == 422 and exc.value.code == code, exc.value.message


def test_a_report_needs_its_repository_and_a_plausible_time():
    body = real_fixture(LCOV[0])
    with pytest.raises(InvalidPayload) as exc:
        registry.get("coverage").parse(request(body))
    assert exc.value.code == "target_missing"
    with pytest.raises(InvalidPayload) as exc:
        parse(body, X_CompanyOS_Commit="not a sha; rm -rf")
    assert exc.value.code == "invalid_commit"
    future = real_fixture(COBERTURA[0]).replace(b'timestamp="1534849423448"', b'timestamp="4102444800000"')
    with pytest.raises(InvalidPayload) as exc:
        parse(future)
    assert exc.value.code == "invalid_report_time"


def test_the_upload_is_signed_with_the_tenants_coverage_secret():
    body = real_fixture(LCOV[1])
    source = registry.get("coverage")
    good = request(body, X_CompanyOS_Signature="sha256=" + hmac_sha256_hex("s3cret", body))
    source.verify(good, ["s3cret"])
    for forged in ("sha256=" + hmac_sha256_hex("other", body), ""):
        with pytest.raises(SignatureInvalid):
            source.verify(request(body, X_CompanyOS_Signature=forged), ["s3cret"])


def test_a_gzipped_report_may_inflate_beyond_the_wire_limit():
    from companyos.ingest import decode_body

    big = real_fixture(LCOV[2]) * 3
    req = request(gzip.compress(big), Content_Encoding="gzip")
    source = registry.get("coverage")
    assert decode_body(req, max(len(big) // 2, getattr(source, "max_decoded_bytes", 0))).body == big
