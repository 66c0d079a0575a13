"""Response compression in the handlers (`companyos.api.compress_response`): what a proxy result
looks like for a caller that accepts gzip, and what is left alone."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from companyos.api import accepts_gzip, compress_response
from companyos.topology import COMPRESS_MIN_BYTES


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("*", False),  # as API Gateway: no explicit coding, no compression
        ("", False),
        (None, False),
    ],
)
def test_accept_encoding(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def _result(body: str, ctype: str = "application/json") -> dict:
    return {"statusCode": 200, "multiValueHeaders": {"Content-Type": [ctype]}, "body": body}


def _event(accept: str | None) -> dict:
    return {"headers": {"Accept-Encoding": accept} if accept else {}}


LARGE = json.dumps({"rows": [{"id": i, "name": f"service-{i}"} for i in range(200)]})


def test_a_large_json_answer_is_gzip_base64_with_vary() -> None:
    out = compress_response(_event("gzip, deflate"), _result(LARGE))
    assert out["isBase64Encoded"] is True
    assert out["multiValueHeaders"]["Content-Encoding"] == ["gzip"]
    assert out["multiValueHeaders"]["Vary"] == ["Accept-Encoding"]
    assert json.loads(gzip.decompress(base64.b64decode(out["body"]))) == json.loads(LARGE)


def test_without_accept_encoding_the_answer_is_plain_but_still_varies() -> None:
    out = compress_response(_event(None), _result(LARGE))
    assert out["body"] == LARGE and not out.get("isBase64Encoded")
    assert "Content-Encoding" not in out["multiValueHeaders"]
    assert out["multiValueHeaders"]["Vary"] == ["Accept-Encoding"]


def test_small_binary_and_already_encoded_answers_are_left_alone() -> None:
    small = "x" * (COMPRESS_MIN_BYTES - 1)
    assert compress_response(_event("gzip"), _result(small)) == _result(small)
    pdf = _result(base64.b64encode(b"%PDF" * 1000).decode(), "application/pdf")
    assert compress_response(_event("gzip"), pdf) == pdf
    encoded = _result(LARGE)
    encoded["multiValueHeaders"]["Content-Encoding"] = ["gzip"]
    assert compress_response(_event("gzip"), encoded)["body"] == LARGE
