"""The identifier checks that decide whether a notification can be built (RULES §7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

from uwvcli.domain.identifiers import (
    default_risicocode,
    is_valid_aansluitnummer,
    is_valid_bsn,
    is_valid_iban,
    is_valid_loonheffingennummer,
    is_valid_risicocode,
    is_valid_sector,
    normalize_bsn,
    normalize_iban,
)


def test_a_bsn_that_passes_the_eleven_check_is_valid_and_one_digit_off_is_not() -> None:
    assert is_valid_bsn("111222333")
    assert not is_valid_bsn("111222334")
    assert not is_valid_bsn("000000000")
    assert not is_valid_bsn("")
    assert not is_valid_bsn(None)
    assert not is_valid_bsn("11122233")  # 8 digits → 011122233, which fails the check


def test_an_eight_digit_bsn_gets_its_leading_zero_back() -> None:
    # 012345672 is valid; a spreadsheet shows it as 12345672.
    assert stdnum_bsn.is_valid("012345672")
    assert normalize_bsn("12345672") == "012345672"
    assert normalize_bsn(" 111222333 ") == "111222333"
    assert is_valid_bsn("12345672")


@pytest.mark.parametrize("text", ["1112223331", "11122233a", "111 222 333", "１１１２２２３３３", "1234567"])
def test_a_bsn_that_is_not_nine_ascii_digits_is_invalid(text: str) -> None:
    assert not is_valid_bsn(text)


@given(st.integers(min_value=0, max_value=999_999_999))
def test_the_bsn_check_agrees_with_python_stdnum(number: int) -> None:
    text = f"{number:09d}"
    assert is_valid_bsn(text) == stdnum_bsn.is_valid(text)


@given(st.integers(min_value=0, max_value=999_999_999), st.integers(min_value=0, max_value=99))
def test_the_loonheffingennummer_check_is_the_eleven_check_on_nine_digits(number: int, suffix: int) -> None:
    digits = f"{number:09d}"
    assert is_valid_loonheffingennummer(f"{digits}L{suffix:02d}") == stdnum_bsn.is_valid(digits)


@pytest.mark.parametrize(
    "text",
    ["123456782L1", "123456782B01", "123456782l01", "123456782L012", " 123456782L01", "123456781L01", ""],
)
def test_a_malformed_loonheffingennummer_is_invalid(text: str) -> None:
    assert is_valid_loonheffingennummer("123456782L01")
    assert not is_valid_loonheffingennummer(text)


def test_ibans_are_checked_by_country_format_and_mod_97() -> None:
    assert is_valid_iban("NL91ABNA0417164300")
    assert is_valid_iban("NL91 ABNA 0417 1643 00")  # as printed on a card
    assert normalize_iban("nl91 abna 0417 1643 00") == "NL91ABNA0417164300"
    assert is_valid_iban("DE89370400440532013000")
    assert not is_valid_iban("NL92ABNA0417164300")  # check digits wrong
    assert not is_valid_iban("NL91ABNA041716430")  # one digit short for NL
    assert not is_valid_iban(None)


@given(st.from_regex(r"NL[0-9]{2}[A-Z]{4}[0-9]{10}", fullmatch=True))
def test_the_iban_check_agrees_with_python_stdnum(text: str) -> None:
    assert is_valid_iban(text) == stdnum_iban.is_valid(text)


def test_aansluitnummer_is_fifteen_digits_starting_with_zero() -> None:
    assert is_valid_aansluitnummer("013000000123456")
    assert not is_valid_aansluitnummer("113000000123456")
    assert not is_valid_aansluitnummer("01300000012345")
    assert not is_valid_aansluitnummer("0130000001234567")
    assert not is_valid_aansluitnummer(None)


def test_sector_codes_are_001_to_069_except_036_and_037_or_998() -> None:
    assert all(is_valid_sector(f"{n:03d}") for n in range(1, 70) if n not in (36, 37))
    for invalid in ("000", "036", "037", "070", "997", "999", "13", "0013", "", None):
        assert not is_valid_sector(invalid)
    assert is_valid_sector("998")


def test_risicocode_is_two_digits() -> None:
    assert is_valid_risicocode("01")
    assert is_valid_risicocode("99")
    for invalid in ("1", "001", "a1", "", None):
        assert not is_valid_risicocode(invalid)


def test_uwv_default_risicocode_depends_on_the_sector() -> None:
    assert default_risicocode("052") == "07"
    assert default_risicocode("009") == "03"
    assert default_risicocode("013") == "01"
    assert default_risicocode(None) == "01"
