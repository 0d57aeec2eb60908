"""Hostile configurations are configuration errors with a key path, never a traceback, and never
minutes of CPU or gigabytes of memory (uwvcli/inputs/config.py: MAX_BYTES, MAX_DEPTH,
MAX_EXPANDED_NODES, MAX_DIGITS)."""

from __future__ import annotations

import pytest

from tests.test_config import MINIMAL, problems, write
from uwvcli.errors import ConfigError
from uwvcli.inputs import config
from uwvcli.inputs.config import load_config

#: 319 bytes: each line nine aliases of the one above, 9**7 values, used as a mapping key.
ALIAS_BOMB = (
    'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    + "".join(
        f"{name}: &{name} [{','.join([f'*{before}'] * 9)}]\n"
        for before, name in zip("abcdef", "bcdefg", strict=True)
    )
    + "? *g\n: 1\n"
)


@pytest.mark.parametrize(
    ("written", "key", "words"),
    [
        ("outbox: ~nosuchuser/outbox", "paths.outbox", "names no user"),
        ('outbox: "var/out\\0box"', "paths.outbox", "NUL"),
    ],
)
def test_unusable_paths_are_problems_of_their_key(tmp_path, written, key, words) -> None:
    found = problems(write(tmp_path, MINIMAL.replace("outbox: var/outbox", written)))
    assert words in found[key]


def test_an_export_path_with_an_unknown_user_is_a_problem_of_its_entry(tmp_path) -> None:
    text = MINIMAL.replace("dossiers: [exports/dossiers.csv]", "dossiers: [~nosuchuser/dossiers.csv]")
    assert "names no user" in problems(write(tmp_path, text))["paths.dossiers[0]"]


def test_a_number_of_5000_digits_is_reported_on_its_key(tmp_path) -> None:
    text = MINIMAL + "mail:\n  smtp_host: localhost\n  smtp_port: " + "9" * 5000 + "\n"
    assert "whole number" in problems(write(tmp_path, text))["mail.smtp_port"]
    text = MINIMAL.replace('uwv_sector: "013"', "uwv_sector: " + "1" * 5000)
    # text where text is wanted: well typed, so it blocks only what needs it (`check` warns)
    assert load_config(write(tmp_path, text)).employers["WG001"].org_units["OE1"].uwv_sector == "1" * 5000


@pytest.mark.parametrize(
    "text",
    [
        "sender: " + "[" * 100_000 + "]" * 100_000,
        "".join(" " * i + f"k{i}:\n" for i in range(900)),
        ALIAS_BOMB,
        "a: &a [*a]\n",
        MINIMAL
        + "x: &x [1, 2]\n"
        + "".join(f"x{i}: &x{i} [*x{i - 1 if i else ''}, *x{i - 1 if i else ''}]\n" for i in range(40)),
    ],
    ids=["deep flow", "deep block", "alias bomb as a key", "recursive alias", "doubling aliases"],
)
def test_hostile_documents_are_refused_quickly_with_a_message(tmp_path, text) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    (problem,) = caught.value.problems
    assert "YAML" in problem.message or "cannot be read" in problem.message


def test_a_mapping_or_list_as_a_key_is_an_unknown_key_not_its_expansion(tmp_path) -> None:
    found = problems(write(tmp_path, MINIMAL + "? [a, b]\n: 1\n"))
    assert "<a list>" in found


def test_a_document_beyond_the_size_limit_is_refused_unread(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(config, "MAX_BYTES", 100)
    with pytest.raises(ConfigError, match="larger than"):
        load_config(write(tmp_path, MINIMAL))


def test_anchors_and_aliases_within_the_budget_still_work(tmp_path) -> None:
    text = MINIMAL.replace('uwv_sector: "013"', 'uwv_sector: &sector "013"').replace(
        "        parent: OE1\n", "        parent: OE1\n        uwv_sector: *sector\n"
    )
    assert load_config(write(tmp_path, text)).employers["WG001"].org_units["OE2"].uwv_sector == "013"
