"""Corrections and withdrawals end to end (RULES 4.6): `uwvcli run` in a subprocess, the
in-process Digipoort simulator over mutual TLS, which holds what it accepted the way UWV does
(a withdrawal must name what it holds; a second version waits for the first to be withdrawn)."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import yaml

from tests.helpers import PERSON, write_setup
from tests.run_support import (
    UWVCLI,
    cron_environment,
    due_notifications,
    journal_status,
    run_day,
    simulator_meldingen,
    simulator_received,
    uwvcli,
)
from uwvcli.domain.keys import parse_key
from uwvcli.messages.build import reference_base, referentie_melding
from uwvcli.simulator.pki import simulator_pki_folder

DAY_1, DAY_2 = "2026-12-01", "2026-12-02"
V1 = {  # vangnet (no-risk policy), recovered: ziekmelding and full werkhervatting
    "employee_id": "1001",
    "dossier_id": "V-1",
    "dossier_type": "ziekte",
    "vangnet_status": "no_risk",
    "first_sick_day": "2026-11-16",
    "recovery_date": "2026-11-25",
}
V2 = {"employee_id": "1002", "dossier_id": "V-2", "dossier_type": "ziekte", "vangnet_status": "sfb",
      "first_sick_day": "2026-11-23"}  # fmt: skip
V3 = {"employee_id": "1003", "dossier_id": "V-3", "dossier_type": "ziekte", "vangnet_status": "sfb",
      "first_sick_day": "2026-11-24"}  # fmt: skip


ZM, WH = "WG001/V-1/zw-ziekmelding", "WG001/V-1/werkhervatting/full"
#: What UWV receives for V-1 when its first sick day is corrected after both went out: the
#: dependant withdrawn first, then the ziekmelding, then both again as revision 2, each once.
V1_CORRECTED = [
    ("send", ZM),
    ("send", WH),
    ("withdraw", WH),
    ("withdraw", ZM),
    ("send", f"{ZM}#2"),
    ("send", f"{WH}#2"),
]


def setup(folder: Path, pki: Path, rows: list[dict]) -> Path:
    config = write_setup(folder, rows)
    (folder / "var").mkdir(mode=0o700)
    shutil.copytree(pki, simulator_pki_folder(folder / "var"))
    return config


def rewrite(config: Path, rows: list[dict]) -> None:
    """The export as HR corrected it (the same fields and person data as `write_setup` writes)."""
    from tests.helpers import EXPORT_FIELDS, PERSON

    with (config.parent / "dossiers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({"employer_id": "WG001", "org_unit_id": "OE2", **PERSON, **row})


def held(config: Path) -> list[tuple[str, str]]:
    return simulator_meldingen(config.parent / "var" / "simulator")


def of(dossier: str, meldingen: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(action, reference) for action, reference in meldingen if f"/{dossier}/" in reference]


def test_a_corrected_first_sick_day_withdraws_dependants_first_and_resends_as_revision_2(
    tmp_path: Path, test_pki: Path
) -> None:
    config = setup(tmp_path, test_pki, [V1, V2, V3])
    assert run_day(config, DAY_1).returncode == 0
    zm, wh = ZM, WH
    assert of("V-1", held(config)) == V1_CORRECTED[:2]

    rewrite(config, [{**V1, "first_sick_day": "2026-11-17"}, {**V2, "vangnet_status": "none"},
                     {**V3, "last_name": "Anders", "iban": "NL20INGB0001234567"}])  # fmt: skip
    second = run_day(config, DAY_2)
    assert second.returncode == 0, second.stderr
    third = run_day(config, DAY_2)  # the replacements, now that UWV accepted the withdrawals
    assert third.returncode == 0, third.stderr
    assert run_day(config, DAY_2).returncode == 0  # and nothing more

    assert of("V-1", held(config)) == V1_CORRECTED
    assert of("V-2", held(config)) == [
        ("send", "WG001/V-2/zw-ziekmelding"),
        ("withdraw", "WG001/V-2/zw-ziekmelding"),
    ]
    assert of("V-3", held(config)) == [("send", "WG001/V-3/zw-ziekmelding")]  # a name or IBAN: nothing
    status = journal_status(config)
    assert status[zm]["state"] == "accepted" and status[f"{zm}/intrekking/1"]["state"] == "accepted"
    assert status["WG001/V-2/zw-ziekmelding"]["state"] == "withdrawn"
    assert status[f"{wh}/intrekking/1"]["due_date"] == DAY_2
    assert status[wh]["due_date"] == DAY_2 and status[wh]["deadline"] == "2026-12-03"


def test_a_gone_dossier_is_reported_once_and_withdrawn_only_when_a_person_says_so(
    tmp_path: Path, test_pki: Path
) -> None:
    config = setup(tmp_path, test_pki, [V2, V3])
    assert run_day(config, DAY_1).returncode == 0
    rewrite(config, [V3])  # V-2 deleted from the export
    first = run_day(config, DAY_2)
    assert first.returncode == 1
    assert "WG001/V-2/zw-ziekmelding: sent, and its dossier is no longer in the export" in first.stderr
    assert run_day(config, DAY_2).returncode == 0  # reported once
    assert "no longer in the export" in journal_status(config)["WG001/V-2/zw-ziekmelding"]["reason"]
    assert [a for a, _ in held(config)] == ["send", "send"]  # nothing withdrawn by itself

    done = uwvcli(
        "withdraw", "WG001/V-2/zw-ziekmelding", "--reason", "entered by mistake", "--config", str(config),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "WG001/V-2/zw-ziekmelding/intrekking/1" in done.stdout
    (listed,) = [n for n in due_notifications(config, DAY_2) if n["action"] == "withdraw"]
    assert listed["key"] == "WG001/V-2/zw-ziekmelding/intrekking/1"
    assert listed["withdraws"] == "WG001/V-2/zw-ziekmelding" and listed["state"] == "due"
    again = uwvcli("withdraw", "WG001/V-2/zw-ziekmelding", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 1 and "already under way" in again.stderr
    assert uwvcli("send", "--config", str(config), cwd=tmp_path).returncode == 0
    assert run_day(config, DAY_2).returncode == 0
    assert of("V-2", held(config)) == [
        ("send", "WG001/V-2/zw-ziekmelding"),
        ("withdraw", "WG001/V-2/zw-ziekmelding"),
    ]
    assert journal_status(config)["WG001/V-2/zw-ziekmelding"]["state"] == "withdrawn"


def test_the_brake_holds_a_mass_withdrawal_until_it_is_confirmed(tmp_path: Path, test_pki: Path) -> None:
    rows = [{**V2, "employee_id": f"{2000 + i}", "dossier_id": f"S-{i}"} for i in range(7)]
    config = setup(tmp_path, test_pki, rows)
    assert run_day(config, DAY_1).returncode == 0
    rewrite(config, [{**row, "vangnet_status": "none"} for row in rows])  # 7 of 7: looks wrong
    braked = run_day(config, DAY_2)
    assert braked.returncode == 1
    assert "WG001: 7 withdrawals held back: the export looks incomplete or wrong" in braked.stderr
    assert [a for a, _ in held(config)] == ["send"] * 7
    confirmed = run_day(config, DAY_2, "--allow-withdrawals")
    assert confirmed.returncode == 0, confirmed.stderr
    assert [a for a, _ in held(config)] == ["send"] * 7 + ["withdraw"] * 7


def _with_short_processing_margin(config: Path) -> None:
    """An attempt killed before its POST reached Digipoort stays in doubt until the processing
    margin after it has passed (never resent blindly), and holds its sender's other messages
    back meanwhile: a margin of seconds instead of a minute lets the reruns settle it."""
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["digipoort"]["delivery"] = {"processing_margin_seconds": 2}
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def _rerun_to_the_end(config: Path, seed: int, *extra: str) -> None:
    """Runs on DAY_2 until nothing is in flight or in doubt any more (bounded)."""
    for _ in range(12):
        assert run_day(config, DAY_2, *extra).returncode in (0, 1), f"seed {seed}"
        states = {entry["state"] for entry in journal_status(config).values()}
        if not states & {"written", "submitting", "submitted", "in_doubt", "delivered"}:
            return
        time.sleep(1)
    pytest.fail(f"seed {seed}: still under way after 12 runs: {journal_status(config)}")


def _killed_at_random(config: Path, chance: random.Random, *extra: str) -> None:
    """`uwvcli run` on DAY_2, SIGKILLed at a random moment: before, while or after it submits."""
    process = subprocess.Popen(
        [str(UWVCLI), "run", "--config", str(config), "--date", DAY_2, "--poll-seconds", "10", *extra],
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cron_environment(UWVCLI_TODAY=DAY_2),
    )
    time.sleep(chance.uniform(0.2, 4.0))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def test_a_correction_survives_sigkill_at_a_random_moment_without_a_duplicate(
    tmp_path: Path, test_pki: Path
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    chance = random.Random(seed)
    config = setup(tmp_path, test_pki, [V1, V2])
    _with_short_processing_margin(config)
    assert run_day(config, DAY_1).returncode == 0
    rewrite(config, [{**V1, "first_sick_day": "2026-11-17"}, {**V2, "vangnet_status": "none"}])
    for _ in range(3):
        _killed_at_random(config, chance)
    _rerun_to_the_end(config, seed)  # withdrawals, their statuses, the replacements
    assert of("V-1", held(config)) == V1_CORRECTED, f"seed {seed}"
    assert of("V-2", held(config))[1:] == [("withdraw", "WG001/V-2/zw-ziekmelding")], f"seed {seed}"
    received = simulator_received(config.parent / "var" / "simulator")
    assert set(received.values()) == {1}, f"seed {seed}: {received}"  # no message twice at Digipoort


@pytest.mark.parametrize("scenario", ["gone, then withdrawn by a person", "braked, then confirmed"])
def test_a_requested_or_confirmed_withdrawal_survives_sigkill_without_a_duplicate(
    tmp_path: Path, test_pki: Path, scenario: str
) -> None:
    """The other two ways a withdrawal comes about (RULES 4.6): `uwvcli withdraw` of a dossier
    gone from the export, and a braked mass withdrawal confirmed with `--allow-withdrawals`. A
    run killed at a random moment and the reruns withdraw each exactly once."""
    seed = int.from_bytes(os.urandom(4), "big")
    chance = random.Random(seed)
    if scenario.startswith("gone"):
        config = setup(tmp_path, test_pki, [V2, V3])
        _with_short_processing_margin(config)
        assert run_day(config, DAY_1).returncode == 0
        rewrite(config, [V3])
        done = uwvcli(
            "withdraw", "WG001/V-2/zw-ziekmelding", "--reason", "entered by mistake",
            "--config", str(config), cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        extra: tuple[str, ...] = ()
        expected = ["WG001/V-2/zw-ziekmelding"]
    else:
        rows = [{**V2, "employee_id": f"{2000 + i}", "dossier_id": f"S-{i}"} for i in range(7)]
        config = setup(tmp_path, test_pki, rows)
        _with_short_processing_margin(config)
        assert run_day(config, DAY_1).returncode == 0
        rewrite(config, [{**row, "vangnet_status": "none"} for row in rows])
        extra = ("--allow-withdrawals",)
        expected = sorted(f"WG001/S-{i}/zw-ziekmelding" for i in range(7))
    _killed_at_random(config, chance, *extra)
    _rerun_to_the_end(config, seed, *extra)  # the withdrawals and their statuses
    assert sorted(ref for action, ref in held(config) if action == "withdraw") == expected, f"seed {seed}"
    received = simulator_received(config.parent / "var" / "simulator")
    assert set(received.values()) == {1}, f"seed {seed}: {received}"  # no message twice at Digipoort


def recap(config: Path, day: str) -> str:
    """The plain text of the employer's recap of `day` (written to var/recaps without `mail:`)."""
    (path,) = (config.parent / "var" / "recaps").rglob(f"WG001_{day}.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_correction_in_the_recap_and_a_rejected_withdrawal_is_urgent_and_its_replacement_waits(
    tmp_path: Path, test_pki: Path
) -> None:
    config = setup(tmp_path, test_pki, [{**V1, "recovery_date": ""}])
    assert run_day(config, DAY_1).returncode == 0
    with sqlite3.connect(config.parent / "var" / "simulator" / "simulator.sqlite3") as db:
        db.execute("DELETE FROM melding")  # someone withdrew it in the UWV portal meanwhile
    rewrite(config, [{**V1, "recovery_date": "", "first_sick_day": "2026-11-17"}])
    rejected = run_day(config, DAY_2)
    assert rejected.returncode == 1
    text = recap(config, DAY_2)
    urgent, corrected = text[text.index("AFGEWEZEN — DRINGEND") :].split("GECORRIGEERD")
    assert "Intrekking ZW-ziekmelding, personeelsnr. 1001" in urgent
    assert "Intrekking ZW-ziekmelding, personeelsnr. 1001" in corrected
    assert "UWV kan een onjuiste datum beboeten (€ 455), ook als die is gecorrigeerd" in corrected
    assert run_day(config, DAY_2).returncode == 1  # still rejected: the person must look
    assert held(config) == []  # the replacement waits while its withdrawal is not accepted
    status = journal_status(config)
    assert status[f"{ZM}/intrekking/1"]["state"] == "rejected" and status[ZM]["state"] == "accepted"


@pytest.mark.parametrize(
    ("key", "extra", "code", "says"),
    [
        ("WG001/V-1", (), 2, "not a notification key"),
        ("WG001/V-1/zw-ziekmelding/intrekking/1", (), 2, "is a withdrawal itself"),
        ("WG001/V-9/zw-ziekmelding", (), 1, "the journal has no such notification"),
        ("WG001/V-1/zw-ziekmelding", ("--reason", "x" * 300), 2, "at most 200"),
    ],
)
def test_withdraw_refuses_what_it_cannot_do_and_changes_nothing(
    tmp_path: Path, test_pki: Path, key: str, extra: tuple[str, ...], code: int, says: str
) -> None:
    config = setup(tmp_path, test_pki, [{**V1, "recovery_date": ""}])
    done = uwvcli("withdraw", key, *extra, "--config", str(config), cwd=tmp_path)
    assert done.returncode == code and says in done.stderr, done.stderr
    assert not (tmp_path / "var" / "outbox").exists() or not list((tmp_path / "var" / "outbox").glob("*-I*"))


def test_a_notification_a_person_withdrew_is_not_sent_again_while_the_export_says_the_same(
    tmp_path: Path, test_pki: Path
) -> None:
    config = setup(tmp_path, test_pki, [V2])
    assert run_day(config, DAY_1).returncode == 0
    key = "WG001/V-2/zw-ziekmelding"
    assert uwvcli("withdraw", key, "--config", str(config), cwd=tmp_path).returncode == 0
    for _ in range(2):
        assert run_day(config, DAY_2).returncode == 0
    assert held(config) == [("send", key), ("withdraw", key)]
    rewrite(config, [{**V2, "first_sick_day": "2026-11-24"}])  # a real correction later: sent again
    assert run_day(config, DAY_2).returncode == 0
    assert held(config)[-1] == ("send", f"{key}#2")


def journal_dump(config: Path) -> list[str]:
    """The journal's content, statement by statement (not its bytes: SQLite may checkpoint)."""
    with sqlite3.connect(f"file:{config.parent / 'var' / 'uwvcli.sqlite'}?mode=ro", uri=True) as db:
        return list(db.iterdump())


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def due_json(config: Path, day: str) -> tuple[int, list[dict]]:
    done = uwvcli("due", "--config", str(config), "--date", day, "--format", "json", cwd=config.parent)
    return done.returncode, json.loads(done.stdout)["notifications"]


def test_due_previews_the_withdrawals_of_a_correction_and_the_next_run_writes_exactly_those(
    tmp_path: Path, test_pki: Path
) -> None:
    config = setup(tmp_path, test_pki, [V1, V2, V3])
    assert run_day(config, DAY_1).returncode == 0
    rewrite(config, [{**V1, "first_sick_day": "2026-11-17"}, {**V2, "vangnet_status": "none"}, V3])
    journal, outbox = journal_dump(config), files_under(config.parent / "var" / "outbox")

    code, listed = due_json(config, DAY_2)
    assert code == 0  # a correction under way needs no attention
    assert journal_dump(config) == journal and files_under(config.parent / "var" / "outbox") == outbox
    withdrawals = {n["key"]: n for n in listed if n["action"] == "withdraw"}
    assert withdrawals == {
        f"{WH}/intrekking/1": {
            "key": f"{WH}/intrekking/1", "kind": "werkhervatting", "employer_id": "WG001",
            "employee_id": "1001", "dossier_id": "V-1", "due_date": DAY_2, "deadline": "2026-12-03",
            "state": "due", "problems": [], "action": "withdraw", "withdraws": WH,
        },
        f"{ZM}/intrekking/1": {
            "key": f"{ZM}/intrekking/1", "kind": "zw-ziekmelding", "employer_id": "WG001",
            "employee_id": "1001", "dossier_id": "V-1", "due_date": DAY_2, "deadline": "2026-12-03",
            "state": "due", "problems": [], "action": "withdraw", "withdraws": ZM,
        },
        "WG001/V-2/zw-ziekmelding/intrekking/1": {
            "key": "WG001/V-2/zw-ziekmelding/intrekking/1", "kind": "zw-ziekmelding", "employer_id": "WG001",
            "employee_id": "1002", "dossier_id": "V-2", "due_date": DAY_2, "deadline": "2026-12-03",
            "state": "due", "problems": [], "action": "withdraw", "withdraws": "WG001/V-2/zw-ziekmelding",
        },
    }  # fmt: skip
    assert [n["key"] for n in listed[:3]] == [f"{WH}/intrekking/1", f"{ZM}/intrekking/1",
                                              "WG001/V-2/zw-ziekmelding/intrekking/1"]  # fmt: skip
    # the corrected ziekmelding and its werkhervatting again, once UWV accepted the withdrawals;
    # V-2 is no longer produced, so nothing replaces it
    again = {n["key"]: n for n in listed if n["action"] == "send" and n["state"] == "upcoming"}
    assert set(again) == {ZM, WH}
    assert again[ZM]["problems"] == [f"waits for {ZM}/intrekking/1"]
    assert (again[ZM]["due_date"], again[ZM]["deadline"]) == (DAY_2, "2026-12-03")

    done = uwvcli(
        "run", "--config", str(config), "--date", DAY_2, "--no-send", "--format", "json", cwd=config.parent,
        env=cron_environment(UWVCLI_TODAY=DAY_2),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert [w["key"] for w in run["withdrawals"]] == list(withdrawals)
    assert [(w["cause"], w["state"], w["due_date"], w["deadline"]) for w in run["withdrawals"]] == [
        (cause, "due", DAY_2, "2026-12-03") for cause in ("corrected", "corrected", "withdrawn")
    ]  # the werkhervatting carries the first sick day too
    code, after = due_json(config, DAY_2)  # now written: the same list, from the journal
    assert code == 0 and after == listed


def test_due_shows_the_withdrawals_the_brake_holds_as_blocked_with_the_runs_words(
    tmp_path: Path, test_pki: Path
) -> None:
    rows = [{**V2, "employee_id": f"{2000 + i}", "dossier_id": f"S-{i}"} for i in range(7)]
    config = setup(tmp_path, test_pki, rows)
    assert run_day(config, DAY_1).returncode == 0
    rewrite(config, [{**row, "vangnet_status": "none"} for row in rows])
    code, listed = due_json(config, DAY_2)
    assert code == 1  # as the run: the brake needs a person
    braked_ones = [n for n in listed if n["action"] == "withdraw"]
    assert len(braked_ones) == 7 and {n["state"] for n in braked_ones} == {"blocked"}
    assert not [n for n in listed if n["action"] == "send"]  # no replacement: nothing replaces them
    braked = run_day(config, DAY_2)
    (words,) = {problem for n in braked_ones for problem in n["problems"]}
    assert words in braked.stderr and words.startswith("WG001: 7 withdrawals held back")
    assert "--allow-withdrawals" in words
    assert [a for a, _ in held(config)] == ["send"] * 7


def test_due_and_run_agree_on_a_withdrawal_whose_sent_file_is_gone(tmp_path: Path, test_pki: Path) -> None:
    config = setup(tmp_path, test_pki, [V2, V3])
    assert run_day(config, DAY_1).returncode == 0
    (config.parent / "var" / "outbox" / "WG001-V-2-ZM.xml").unlink()  # someone cleaned the outbox
    rewrite(config, [{**V2, "vangnet_status": "none"}, V3])
    code, listed = due_json(config, DAY_2)
    (withdrawal,) = [n for n in listed if n["action"] == "withdraw"]
    assert code == 1 and withdrawal["state"] == "blocked"
    (why,) = withdrawal["problems"]
    assert why == "cannot be withdrawn: the sent file WG001-V-2-ZM.xml is missing from the outbox"
    done = run_day(config, DAY_2)
    assert done.returncode == 1 and f"WG001/V-2/zw-ziekmelding: {why}" in done.stderr
    assert [a for a, _ in held(config)] == ["send", "send"]  # nothing withdrawn


#: Dossier ids long enough that the key is 63 characters (revision 1 is the key itself, `#2` no
#: longer fits behind it) and 70 (revision 1 is already shortened with a hash).
LONG_63, LONG_70 = "L" * (63 - len("WG001//zw-ziekmelding")), "M" * (70 - len("WG001//zw-ziekmelding"))


def test_a_correction_of_long_dossier_ids_goes_through_and_status_key_tells_its_history(
    tmp_path: Path, test_pki: Path
) -> None:
    """The simulator links a revision to the one it replaces by its ReferentieMelding's base: a
    long key's revision 2 is accepted only after revision 1 was withdrawn."""
    rows = [{**V2, "dossier_id": LONG_63}, {**V3, "dossier_id": LONG_70}]
    config = setup(tmp_path, test_pki, rows)
    assert run_day(config, DAY_1).returncode == 0
    rewrite(config, [{**row, "first_sick_day": "2026-11-25"} for row in rows])
    for _ in range(3):  # the withdrawals, then the replacements once UWV accepted the withdrawals
        done = run_day(config, DAY_2)
        assert done.returncode == 0, done.stderr
    keys = [f"WG001/{LONG_63}/zw-ziekmelding", f"WG001/{LONG_70}/zw-ziekmelding"]
    first = {key: referentie_melding(parse_key(key)) for key in keys}
    second = {key: referentie_melding(parse_key(key), 2) for key in keys}
    assert first[keys[0]] == keys[0] and len(first[keys[1]]) == 64  # revision 1 as it always was
    meldingen = held(config)
    for key in keys:
        assert [m for m in meldingen if m[1] in (first[key], second[key])] == [
            ("send", first[key]),
            ("withdraw", first[key]),
            ("send", second[key]),
        ]
        assert reference_base(first[key]) == reference_base(second[key])  # what the simulator links by
    status = journal_status(config)
    assert {status[key]["state"] for key in keys} == {"accepted"}

    shown = uwvcli("status", keys[1], "--format", "json", "--config", str(config), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    story = json.loads(shown.stdout)
    one, two = story["revisions"]
    assert (one["revision"], one["state"], one["withdrawn_by"]) == (1, "withdrawn", f"{keys[1]}/intrekking/1")
    assert one["kenmerk"] and "500" in [s["code"] for s in one["statuses"]]
    (withdrawal,) = story["withdrawals"]
    assert (withdrawal["cause"], withdrawal["state"], withdrawal["replaced_by_revision"]) == (
        "corrected",
        "accepted",
        2,
    )
    assert (two["revision"], two["state"]) == (2, "accepted") and two["kenmerk"] not in (None, one["kenmerk"])
    told = [(event["message"], event["event"]) for event in story["events"]]
    assert told.index(("revision 1", "submitted")) < told.index(("withdrawal of revision 1", "submitted"))
    assert told.index(("withdrawal of revision 1", "status 500")) < told.index(("revision 2", "submitted"))
    plain = uwvcli("status", f"{keys[1]}/intrekking/1", "--config", str(config), cwd=tmp_path)
    assert plain.returncode == 0 and plain.stdout.startswith(f"{keys[1]}: accepted · revision 2")
    assert PERSON["bsn"] not in shown.stdout + plain.stdout and PERSON["last_name"] not in plain.stdout
