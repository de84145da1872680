"""The register's join code (webapp/pos/join_code.py): packed, read back, a typo caught."""

from __future__ import annotations

import base64
import json

import pytest

from webapp import i18n
from webapp.pos import join_code
from webapp.pos.join_code import JoinCodeError

URL = "http://192.168.1.20:8770"
TOKEN = "Zq3-_tokenOfTheRegister_0123456789abcdefghijk"


def test_encoded_then_decoded() -> None:
    code = join_code.encode(URL, 3, TOKEN)
    assert code.startswith("RLS1-")
    assert set(code[5:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), "QR alphanumeric, no padding"
    assert join_code.decode(code) == join_code.JoinCode(URL, 3, TOKEN)


def test_pasted_with_spaces_line_breaks_and_small_letters() -> None:
    code = join_code.encode(URL, 12, TOKEN)
    messy = "  " + "\n".join(code[i : i + 20] for i in range(0, len(code), 20)).lower() + " \n"
    assert join_code.decode(messy).number == 12
    grouped = code[:5] + "-".join(code[i : i + 4] for i in range(5, len(code), 4))
    assert join_code.decode(grouped).token == TOKEN


@pytest.mark.parametrize("position", [5, 20, -3])
def test_a_typo_is_caught_by_the_check(position: int) -> None:
    code = join_code.encode(URL, 3, TOKEN)
    index = position % len(code)
    wrong = "A" if code[index] != "A" else "B"
    typo = code[:index] + wrong + code[index + 1 :]
    with pytest.raises(JoinCodeError) as caught:
        join_code.decode(typo)
    with i18n.language("en"):
        assert caught.value.translated() == "The join code is incomplete or mistyped."


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "RLS2-ABCDEFGH",
        "RLS1-",
        "RLS1-A",
        "RLS1-ABCDEFGH1",  # 1 is not base32
        "RLS1-" + "A" * 5000,
    ],
)
def test_bad_codes_refused_clearly(text: str) -> None:
    with pytest.raises(JoinCodeError):
        join_code.decode(text)


def test_cut_short_is_refused() -> None:
    code = join_code.encode(URL, 3, TOKEN)
    with pytest.raises(JoinCodeError):
        join_code.decode(code[:-8])


@pytest.mark.parametrize(
    "content",
    [
        {"u": URL, "n": 0, "t": TOKEN},
        {"u": URL, "n": "x", "t": TOKEN},
        {"u": "", "n": 1, "t": "t"},
        {"u": URL, "n": 1},
        [1, 2, 3],
    ],
)
def test_a_well_checked_code_with_bad_content_is_refused(content: object) -> None:
    payload = json.dumps(content).encode()
    raw = payload + join_code._check(payload)
    code = join_code.PREFIX + base64.b32encode(raw).decode().rstrip("=")
    with pytest.raises(JoinCodeError):
        join_code.decode(code)


def test_qr_code_is_inline_svg() -> None:
    svg = join_code.qr_svg(join_code.encode(URL, 3, TOKEN))
    assert svg.startswith("<svg") and "<path" in svg and "<?xml" not in svg
