"""`config.load_config`: CONTRACT §2, strict, every problem at once with key path and line."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import employer
from tests.rules_builders import ziekte
from uwvcli.domain.models import Kind
from uwvcli.domain.rules import evaluate
from uwvcli.errors import EXIT_UNUSABLE, ConfigError
from uwvcli.inputs.config import blocking_values, load_config

PROJECT = Path(__file__).resolve().parent.parent

MINIMAL = """\
sender:
  name: Test Verzuimdiensten BV
  role: Intermediair
digipoort:
  environment: simulator
paths:
  dossiers: [exports/dossiers.csv]
  outbox: var/outbox
  state: var/uwvcli.sqlite
employers:
  - id: WG001
    name: Testbedrijf BV
    uwv_interface:
      active: true
      start_date: 2026-01-01
    org_units:
      - id: OE1
        name: Hoofdkantoor
        legal_entity: true
        loonheffingennummer: 123456782L01
        uwv_aansluitnummer: "013000000123456"
        uwv_sector: "013"
      - id: OE2
        name: Filiaal
        parent: OE1
"""


def write(tmp_path: Path, text: str, name: str = "uwvcli.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> dict[str, str]:
    """The problems of a configuration by key path (asserts there are some)."""
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.exit_code == EXIT_UNUSABLE
    return {p.path: p.message for p in caught.value.problems}


def test_minimal_configuration_loads_with_defaults_and_resolved_paths(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.paths.dossiers == (tmp_path / "exports" / "dossiers.csv",)
    assert config.paths.outbox == tmp_path / "var" / "outbox"
    assert config.paths.state == tmp_path / "var" / "uwvcli.sqlite"
    assert config.digipoort.signature_algorithm == "rsa-sha1"
    assert config.digipoort.withdrawal_style == "indicator"  # MESSAGES.md's default
    assert config.digipoort.timeout_seconds == 30.0
    assert config.sender.certificate is None and config.sender.private_key is None  # simulator
    assert config.mail is None
    employer_ = config.employers["WG001"]
    assert employer_.active and employer_.start_date == date(2026, 1, 1)
    assert all(employer_.enabled(kind) for kind in Kind)
    assert list(employer_.org_units) == ["OE1", "OE2"]
    assert employer_.legal_entity_for("OE2").uwv_sector == "013"


def test_relative_paths_resolve_against_the_config_folder_not_the_working_directory(tmp_path, monkeypatch):
    folder = tmp_path / "etc"
    folder.mkdir()
    path = write(folder, MINIMAL)
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("etc/uwvcli.yaml"))
    assert config.paths.state == folder / "var" / "uwvcli.sqlite"
    assert config.source == path


def test_the_example_configuration_documents_every_key_and_loads(tmp_path):
    example = (PROJECT / "config.example.yaml").read_text(encoding="utf-8")
    config = load_config(write(tmp_path, example))
    assert config.digipoort.environment == "simulator"
    assert config.mail is not None and config.mail.from_address.endswith(".example")
    assert config.employers
    for key in ("private_key_password_env", "service_certificate", "berichtsoorten", "timeout_seconds",
                "starttls", "password_env", "recap_email", "uwv_risicocode", "iban", "parent"):  # fmt: skip
        assert f"{key}:" in example, key


def test_the_samples_configuration_loads(tmp_path):
    config = load_config(PROJECT / "samples" / "uwvcli.yaml")
    assert config.digipoort.environment == "simulator"
    assert config.paths.state == PROJECT / "samples" / "var" / "uwvcli.sqlite"
    assert all(path.exists() for path in config.paths.dossiers)
    assert any(not e.active for e in config.employers.values())


def test_full_configuration_with_every_optional_key(tmp_path):
    text = MINIMAL.replace(
        "  environment: simulator\n",
        "  environment: custom\n  aanlever_url: https://127.0.0.1:8443/aanleveren\n"
        "  status_url: https://127.0.0.1:8443/status\n  signature_algorithm: rsa-sha256\n"
        "  timeout_seconds: 5\n  ca_bundle: certs/ca.pem\n  berichtsoorten:\n    wazo: Wazo2026\n",
    ).replace(
        "  role: Intermediair\n",
        "  role: Intermediair\n  certificate: certs/sender.pem\n  private_key: certs/sender.key\n"
        "  private_key_password_env: UWVCLI_KEY_PASSWORD\n",
    )
    text += (
        "mail:\n  smtp_host: localhost\n  smtp_port: 2525\n  from: uwvcli@test.example\n  starttls: true\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.digipoort.berichtsoorten == {Kind.WAZO: "Wazo2026"}
    assert config.digipoort.signature_algorithm == "rsa-sha256"
    assert config.digipoort.timeout_seconds == 5.0
    assert config.digipoort.ca_bundle == tmp_path / "certs" / "ca.pem"
    assert config.sender.private_key == tmp_path / "certs" / "sender.key"
    assert config.mail.smtp_port == 2525 and config.mail.starttls is True


def test_unquoted_leading_zero_codes_are_errors_that_show_the_quoted_form(tmp_path):
    text = MINIMAL.replace('uwv_sector: "013"', "uwv_sector: 013\n        uwv_risicocode: 01")
    found = problems(write(tmp_path, text))
    sector = found["employers[0].org_units[0].uwv_sector"]
    assert 'write it quoted: "013"' in sector
    assert "11" in sector  # what YAML made of it
    assert "line 22" in sector
    assert 'write it quoted: "01"' in found["employers[0].org_units[0].uwv_risicocode"]


def test_every_problem_is_collected_with_its_key_path(tmp_path):
    text = """\
    sender:
      name: X
      role: Werkgever
      certficate: sender.pem
    digipoort:
      environment: acceptatie
      signature_algorithm: rsa-md5
      withdrawal_style: intrekking
    paths:
      dossiers: [dossiers.xlsx]
      outbox: var/outbox
    mail:
      smtp_host: localhost
      smtp_port: "25"
    employers:
      - id: WG001
        name: A
        uwv_interface:
          active: "yes"
          start_date: 2026-13-01
        notifications:
          ziekmelding: true
        org_units:
          - id: OE1
            name: A
            legal_entity: 1
          - id: OE2
            name: B
            parent: OE9
          - id: OE1
            name: C
      - id: WG001
        name: B
        uwv_interface: {active: false}
        org_units: []
    """
    found = problems(write(tmp_path, text))
    expected = {
        "sender.role": "Bedrijf, Intermediair",
        "sender.certficate": "did you mean `certificate`",
        "digipoort.environment": "simulator, custom, preprod, production",
        "digipoort.signature_algorithm": "rsa-sha1, rsa-sha256",
        "digipoort.withdrawal_style": "indicator, melding-intrekking",
        "paths.dossiers[0]": ".csv or .json",
        "paths.state": "missing",
        "mail.smtp_port": "whole number",
        "employers[0].uwv_interface.active": "true or false",
        "employers[0].uwv_interface.start_date": "YYYY-MM-DD",
        "employers[0].notifications.ziekmelding": "did you mean `zw-ziekmelding`",
        "employers[0].org_units[0].legal_entity": "true or false",
        "employers[0].org_units[1].parent": "no org unit 'OE9'",
        "employers[0].org_units[2].id": "already used by employers[0].org_units[0]",
        "employers[1].id": "already used by employers[0]",
    }
    for path, fragment in expected.items():
        assert path in found, f"{path} not reported; got {sorted(found)}"
        assert fragment in found[path], (path, found[path])
    assert len(found) == len(expected)


def test_the_error_message_is_complete_and_in_file_order(tmp_path):
    text = MINIMAL.replace("environment: simulator", "environment: test").replace(
        "role: Intermediair", "rol: x"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'uwvcli.yaml'}: the configuration has 3 problem(s)")
    assert message.index("sender.rol") < message.index("digipoort.environment")


def test_cycles_of_parents_are_reported_once(tmp_path):
    text = MINIMAL.replace(
        "        parent: OE1\n",
        "        parent: OE3\n      - id: OE3\n        name: C\n        parent: OE2\n",
    )
    found = problems(write(tmp_path, text))
    assert list(found) == ["employers[0].org_units[1].parent"]
    assert "cycle (OE2 → OE3 → OE2)" in found["employers[0].org_units[1].parent"]


def test_a_yaml_syntax_error_names_line_and_column(tmp_path):
    path = write(tmp_path, MINIMAL.replace("  outbox: var/outbox", "  outbox: [var/outbox"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "not valid YAML: line" in str(caught.value)
    assert "column" in str(caught.value)


def test_duplicate_keys_in_one_section_are_errors(tmp_path):
    found = problems(write(tmp_path, MINIMAL.replace("  outbox: var/outbox\n", "  outbox: a\n  outbox: b\n")))
    assert "written twice" in found["paths.outbox"]


def test_a_missing_or_empty_file_is_a_clear_config_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found: pass --config"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="empty"):
        load_config(write(tmp_path, ""))
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path, "- just\n- a list\n"))


def test_custom_environment_needs_urls_and_https(tmp_path):
    text = MINIMAL.replace("environment: simulator", "environment: custom\n  status_url: http://x/status")
    text = text.replace(
        "  role: Intermediair\n", "  role: Intermediair\n  certificate: a.pem\n  private_key: a.key\n"
    )
    found = problems(write(tmp_path, text))
    assert "both URLs" in found["digipoort.aanlever_url"]
    assert "https://" in found["digipoort.status_url"]


def test_production_requires_the_sender_certificate_and_key_but_accepts_a_pkcs12_bundle(tmp_path):
    found = problems(write(tmp_path, MINIMAL.replace("environment: simulator", "environment: production")))
    assert set(found) == {"sender.private_key", "sender.certificate"}
    bundle = MINIMAL.replace("environment: simulator", "environment: production").replace(
        "  role: Intermediair\n", "  role: Intermediair\n  private_key: certs/sender.p12\n"
    )
    assert load_config(write(tmp_path, bundle)).sender.certificate is None


def test_an_active_employer_needs_a_start_date(tmp_path):
    found = problems(write(tmp_path, MINIMAL.replace("      start_date: 2026-01-01\n", "")))
    assert "missing: an active employer needs" in found["employers[0].uwv_interface.start_date"]


def test_well_typed_but_wrong_values_are_not_errors_but_warnings(tmp_path):
    text = MINIMAL.replace('uwv_sector: "013"', 'uwv_sector: "999"\n        iban: NL00ABNA0000000000')
    text += "  - id: WG002\n    name: Zonder rechtspersoon\n"
    text += "    uwv_interface: {active: true, start_date: 2026-01-01}\n"
    text += "    org_units:\n      - {id: X1, name: Los}\n"
    config = load_config(write(tmp_path, text))
    warnings = {p.path: p.message for p in blocking_values(config)}
    assert "is not a UWV sector code" in warnings["employers[0].org_units[0].uwv_sector"]
    assert "IBAN" in warnings["employers[0].org_units[0].iban"]
    assert "no legal entity" in warnings["employers[1].org_units[0]"]
    assert all("NL00ABNA" not in message for message in warnings.values())


def test_check_warns_about_exactly_what_the_rules_block_on_in_their_words(tmp_path):
    """One implementation (domain.blocking): a warning of `check` is a problem the rules report."""
    broken = 'uwv_sector: "036"\n        uwv_risicocode: "7"\n        iban: NL00ABNA0000000000'
    text = MINIMAL.replace('uwv_sector: "013"', broken).replace("123456782L01", "123456782B01")
    config = load_config(write(tmp_path, text))
    warnings = [p.message for p in blocking_values(config)]
    sick = ziekte("Z1", date(2026, 3, 2), vangnet_status="no_risk", org_unit_id="OE2")
    (notification,) = evaluate(config.employers, [sick], date(2026, 3, 2)).notifications
    assert len(warnings) == len(notification.problems) == 4
    for warning, problem in zip(warnings, notification.problems, strict=True):
        assert warning.startswith(str(problem))


def test_a_config_written_by_yaml_safe_dump_with_quoted_dates_loads(tmp_path):
    document = {
        "sender": {"name": "X", "role": "Bedrijf"},
        "digipoort": {"environment": "simulator"},
        "paths": {"dossiers": "d.json", "outbox": "o", "state": "s.sqlite"},
        "employers": [employer("WG001", start_date="2025-06-30")],
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    config = load_config(path)
    assert config.employers["WG001"].start_date == date(2025, 6, 30)
    assert config.paths.dossiers == (tmp_path / "d.json",)


@settings(max_examples=60, deadline=None)
@given(code=st.from_regex(r"0[0-7]{1,3}", fullmatch=True))
def test_any_unquoted_octal_looking_code_is_refused_with_its_exact_spelling(tmp_path_factory, code):
    folder = tmp_path_factory.mktemp("octal")
    found = problems(write(folder, MINIMAL.replace('uwv_sector: "013"', f"uwv_sector: {code}")))
    assert f'write it quoted: "{code}"' in found["employers[0].org_units[0].uwv_sector"]


@settings(max_examples=60, deadline=None)
@given(code=st.text(alphabet="0123456789LNABX", min_size=1, max_size=15))
def test_any_quoted_code_is_kept_verbatim(tmp_path_factory, code):
    folder = tmp_path_factory.mktemp("quoted")
    config = load_config(write(folder, MINIMAL.replace('uwv_sector: "013"', f'uwv_sector: "{code}"')))
    assert config.employers["WG001"].org_units["OE1"].uwv_sector == code


def test_an_employer_id_with_a_slash_or_that_extends_another_with_a_dash_is_refused(tmp_path):
    second = "  - id: {id}\n    name: Tweede BV\n"
    slashed = problems(write(tmp_path, MINIMAL.replace("  - id: WG001", "  - id: WG/001")))
    assert "must not contain '/'" in slashed["employers[0].id"]
    extended = problems(write(tmp_path, MINIMAL + second.format(id="WG001-2")))
    assert "'WG001' followed by '-'" in extended["employers[1].id"]


def test_the_delivery_policy_keys_are_optional_and_read_strictly(tmp_path):
    from uwvcli.delivery.loop import DeliveryPolicy
    from uwvcli.domain.models import DeliverySettings

    assert load_config(write(tmp_path, MINIMAL)).digipoort.delivery == DeliverySettings()
    tuned = MINIMAL.replace(
        "  environment: simulator\n",
        "  environment: simulator\n  delivery:\n    processing_margin_seconds: 20\n    settle_checks: 5\n",
    )
    settings = load_config(write(tmp_path, tuned)).digipoort
    assert settings.delivery.processing_margin_seconds == 20 and settings.delivery.settle_checks == 5
    assert DeliveryPolicy.of(settings).processing_margin.total_seconds() == 20
    wrong = MINIMAL.replace(
        "  environment: simulator\n",
        "  environment: simulator\n  delivery:\n    settle_checks: many\n    margin: 5\n",
    )
    found = problems(write(tmp_path, wrong))
    assert "whole number" in found["digipoort.delivery.settle_checks"]
    assert any(
        path.startswith("digipoort.delivery") and "margin" in path + message
        for path, message in found.items()
    )
