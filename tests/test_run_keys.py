"""Dossier ids are free text (CONTRACT §3): a run with ids that hold a slash, a space, an
underscore, non-ASCII letters or 90 characters sends each notification once under its own
aanleverkenmerk, and an id that cannot be used at all is that row's input error, not a crash.
End to end: `uwvcli run` as cron starts it, against the in-process simulator over mutual TLS."""

from __future__ import annotations

from pathlib import Path

from tests.run_support import (
    SmtpServer,
    due_keys,
    journal_status,
    received_by_key,
    run_day,
    setup_samples,
    simulator_received,
)

FREE_TEXT_IDS = ["Z/901", "Z 900", "Z_900", "LANG-" + "x" * 85, "Zé-Ø1"]
UNUSABLE_ID = "Q" * 201


def _sick(dossier_id: str, employee_id: str) -> str:
    """A no-risk sickness of WG002 (org unit T1) since 26 November: its ziekmelding is due."""
    return (
        f"WG002,T1,{employee_id},111222497,K.,Kees,,Testpersoon,1982-10-10,M,,,no_risk,,{dossier_id},"
        "ziekte,2026-11-26,,,,,,"
    )


def test_free_text_dossier_ids_each_get_their_own_message_sent_exactly_once(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=smtp.port)
    state = config.parent / "var"
    export = config.parent / "exports" / "other-dossiers.csv"
    before_ours, _ = due_keys(config)
    lines = export.read_text(encoding="utf-8").splitlines()
    rows = [_sick(d, f"21{n:02}") for n, d in enumerate(FREE_TEXT_IDS)] + [_sick(UNUSABLE_ID, "2199")]
    export.write_text("\n".join([*lines, *rows]) + "\n", encoding="utf-8")
    unusable_line = len(lines) + len(rows)
    ours = {f"WG002/{d}/zw-ziekmelding" for d in FREE_TEXT_IDS}

    sendable, _ = due_keys(config)
    assert sendable == before_ours | ours  # the other rows go on as before

    done = run_day(config)

    assert done.returncode == 1, done.stderr  # blocked sample notifications and the unusable row
    assert received_by_key(config, state / "simulator") == dict.fromkeys(sendable, 1)
    references = {key: n["aanleverkenmerk"] for key, n in journal_status(config).items() if key in ours}
    assert set(references) == ours and len(set(references.values())) == len(ours)
    assert all(len(reference) <= 40 for reference in references.values())
    assert journal_status(config)["WG002/Z_900/zw-ziekmelding"]["aanleverkenmerk"] == "WG002-Z_900-ZM"
    warning = next(line for line in done.stderr.splitlines() if f"other-dossiers.csv:{unusable_line}" in line)
    assert "dossier_id" in warning and " WARNING " in warning
    assert UNUSABLE_ID not in done.stdout + done.stderr

    # the same day again: nothing more reaches Digipoort
    received = simulator_received(state / "simulator")
    again = run_day(config)
    assert again.returncode == 1, again.stderr
    assert simulator_received(state / "simulator") == received
