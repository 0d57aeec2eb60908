"""A lost journal, or one restored from an old backup: opening the journal for a command that
could send, and `uwvcli recover`, a person's decision to rebuild it from what can be verified.

Without the journal uwvcli does not know which outbox messages Digipoort already has, and
Digipoort does not deduplicate: sending them again would start a second process at UWV for each.
So a command that could send refuses a missing, empty or new journal next to an outbox or a recap
folder with content (`open_journal`), every time, until a person restores the newest backup or runs
`recover`, which

1. reads every message in the outbox (not the set-aside ones) that the journal does not know as
   submitted, checks its signature (the sender's certificate) and that the message inside carries
   the aanleverkenmerk of its file name, and finds the notification it belongs to in today's plan;
2. asks Digipoort, for each sender (berichtsoort and loonheffingennummer) of those messages, which
   processes it started (`getProcessen`), and dates the ones the journal does not know by their
   earliest status;
3. decides per sender: a message whose receipt (`<outbox>/receipts/`, written when Digipoort
   gave the kenmerk) names one of those processes adopts it (`submitted`: followed, never sent
   again); when no unknown process is left, the other messages never arrived: they are journalled
   as `written` and the next run sends each once; otherwise each of them is `parked` with the
   candidate processes named, for `uwvcli resolve` (Digipoort's list names no aanleverkenmerk, so
   which process is which message only a person can tell).

All decisions are written in one transaction with a `recoveries` row, which is what tells the guard
that a person decided. Getting a file wrong is never a resend: a message that cannot be verified or
matched stays where it is and is reported, and the next run sets it aside."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from uwvcli.domain.keys import AnyKey, aanleverkenmerk
from uwvcli.domain.models import Config, Notification, State
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK, UwvcliError
from uwvcli.state.journal import Journal
from uwvcli.state.outbox import Outbox, read_receipt, sha256_hex

if TYPE_CHECKING:
    from cryptography import x509

    from uwvcli.digipoort.client import DigipoortClient

_RECOVERED = "recovered after a lost journal"


def evidence(config: Config) -> tuple[Path, Path]:
    """The folders whose content shows that uwvcli worked here before: the outbox and the recaps."""
    from uwvcli.recap.mails import recap_folder

    return config.paths.outbox, recap_folder(config.paths)


def open_journal(config: Config) -> Journal:
    """The journal for a command that could send (`run`, `send`, `resolve`): `JournalLost` (exit 2,
    nothing created) when it is missing, empty or new while the outbox or the recap folder has
    content."""
    return Journal.open(config.paths.state, evidence=evidence(config))


@dataclass(frozen=True, slots=True)
class Found:
    """An outbox message `recover` could verify and match to a notification."""

    notification: Notification
    aanleverkenmerk: str
    revision: int
    file: Path
    sha256: str
    berichtsoort: str
    loonheffingennummer: str
    content_sha256: str


@dataclass
class RecoveryReport:
    adopted: list[tuple[AnyKey, str]] = field(default_factory=list)  # (key, kenmerk)
    parked: list[tuple[AnyKey, tuple[str, ...]]] = field(default_factory=list)  # (key, candidates)
    unsent: list[AnyKey] = field(default_factory=list)  # keys journalled `written`: nothing arrived
    unmatched: list[tuple[Path, str]] = field(default_factory=list)  # (file, why it was left alone)
    unexplained: list[str] = field(default_factory=list)  # unknown processes no outbox file may be
    senders: int = 0  # senders whose process list was asked

    @property
    def exit_code(self) -> int:
        return EXIT_ATTENTION if self.parked or self.unmatched or self.unexplained else EXIT_OK


def recover_under_lock(config: Config, day: date) -> RecoveryReport:
    """`uwvcli recover` as one use case: under the run lock, with the journal as it is (a lost
    one included: that is the point) and a connection to Digipoort."""
    from uwvcli.app.connection import open_digipoort
    from uwvcli.app.credentials import sender_certificate
    from uwvcli.state.locking import run_lock

    with (
        run_lock(config.paths.state),
        Journal.open(config.paths.state) as journal,
        open_digipoort(config) as client,
    ):
        return recover(
            journal=journal, config=config, client=client, signer=sender_certificate(config), day=day
        )


def recover(
    config: Config, journal: Journal, *, client: DigipoortClient, signer: x509.Certificate, day: date
) -> RecoveryReport:
    """Rebuild the journal's knowledge of the outbox from the files and Digipoort (module doc).
    Call under the run lock."""
    report = RecoveryReport()
    found = _verified_messages(config, journal, signer, day, report)
    groups: dict[tuple[str, str], list[Found]] = {}
    for item in found:
        groups.setdefault((item.berichtsoort, item.loonheffingennummer), []).append(item)
    listings = {sender: _unknown_processes(journal, client, *sender) for sender in groups}
    report.senders = len(listings)
    with journal.transaction():
        for sender, items in groups.items():
            _decide(journal, sorted(items, key=lambda f: f.file.name), listings[sender], report)
        journal.record_recovery(
            adopted=len(report.adopted),
            parked=len(report.parked),
            unsent=len(report.unsent),
            note=f"{len(report.unmatched)} outbox file(s) left alone; {report.senders} sender(s) asked",
        )
    return report


def _verified_messages(
    config: Config, journal: Journal, signer: x509.Certificate, day: date, report: RecoveryReport
) -> list[Found]:
    """Every outbox message the journal does not know as submitted that is verifiably the message
    of a notification in the plan of `day`; the others land in `report.unmatched`."""
    from uwvcli.app import planning
    from uwvcli.app.correction import fingerprint
    from uwvcli.delivery.verify import message_reference
    from uwvcli.digipoort.addresses import berichtsoort_for
    from uwvcli.messages import build
    from uwvcli.messages.signing import verify_document

    outbox = Outbox(config.paths.outbox)
    files = [p for p in outbox.messages() if not journal.was_attempted(p.stem)]
    if not files:
        return []
    plan = planning.plan(config, day, sent_keys=frozenset())
    candidates = [n for n in plan.notifications if n.state is not State.UPCOMING]
    sent = journal.sent_keys()
    by_name: dict[str, tuple[Notification, int]] = {}
    for revision in sorted({_revision(p.stem) for p in files}):
        for n in candidates:
            by_name.setdefault(aanleverkenmerk(n.key, revision), (n, revision))
    found = []
    for path in files:
        match = by_name.get(path.stem)
        if match is None:
            report.unmatched.append((path, "no notification of today's exports has this aanleverkenmerk"))
            continue
        n, revision = match
        if n.key in sent:
            report.unmatched.append((path, f"the journal already knows {n.key} as submitted"))
            continue
        try:
            signed = outbox.read(path)
            payload = verify_document(signed, trusted=signer)
        except UwvcliError as error:  # unreadable, or its signature fails (SigningError)
            report.unmatched.append((path, str(error)))
            continue
        if message_reference(payload) != path.stem:
            report.unmatched.append((path, "the message inside names another aanleverkenmerk"))
            continue
        dossier, employer = plan.dossiers[n.dossier_id], config.employers[n.employer_id]
        lhnr = build.loonheffingennummer_for(dossier, employer)
        if lhnr is None:
            report.unmatched.append((path, "its employer has no loonheffingennummer to ask Digipoort about"))
            continue
        found.append(
            Found(
                notification=n,
                aanleverkenmerk=path.stem,
                revision=revision,
                file=path,
                sha256=sha256_hex(signed),
                berichtsoort=berichtsoort_for(config.digipoort, n.kind),
                loonheffingennummer=lhnr,
                content_sha256=fingerprint(n, dossier, employer, config.sender),
            )
        )
    return _newest_revisions(found, report)


def _newest_revisions(found: list[Found], report: RecoveryReport) -> list[Found]:
    """One message per notification: its newest revision. An older one (rejected, then corrected)
    is left alone: the journal can hold one current message per notification, and the process
    the older one may have become is then named as unexplained, for a person to look at."""
    newest: dict[AnyKey, Found] = {}
    for item in found:
        key = item.notification.key
        if key not in newest or item.revision > newest[key].revision:
            newest[key] = item
    for item in found:
        if newest[item.notification.key] is not item:
            report.unmatched.append(
                (item.file, "an older revision of a message whose newer one is in the outbox")
            )
    return list(newest.values())


def _revision(stem: str) -> int:
    head, _, tail = stem.rpartition("-r")
    return int(tail) if head and tail.isdigit() and int(tail) > 1 else 1


def _unknown_processes(
    journal: Journal, client: DigipoortClient, berichtsoort: str, loonheffingennummer: str
) -> list[tuple[datetime | None, str]]:
    """(first status, kenmerk) of every process Digipoort started for this sender that the journal
    does not know, oldest first (undatable ones last). Raises when Digipoort cannot be asked:
    without its answer nothing may be decided."""
    unknown = []
    for process in client.get_processen(berichtsoort, loonheffingennummer):
        if journal.knows_kenmerk(process.kenmerk):
            continue
        history = client.get_statussen_proces(process.kenmerk)
        unknown.append((min((s.timestamp for s in history), default=None), process.kenmerk))
    return sorted(unknown, key=lambda p: (p[0] is None, p[0] or datetime.min, p[1]))


def _decide(
    journal: Journal, items: list[Found], unknown: list[tuple[datetime | None, str]], report: RecoveryReport
) -> None:
    """One sender's messages against the processes Digipoort has for it that the journal does not
    know. A message whose receipt names one of those processes adopts it; when no unknown process
    is left, the other messages never arrived (`written`); otherwise they are parked: which process
    is which message only a person can tell, and guessing could lose one or send one twice."""
    for item in items:
        journal.record_written(
            item.notification,
            file=item.file,
            sha256=item.sha256,
            aanleverkenmerk=item.aanleverkenmerk,
            revision=item.revision,
            loonheffingennummer=item.loonheffingennummer,
            berichtsoort=item.berichtsoort,
            content_sha256=item.content_sha256,
        )
    left = [kenmerk for _, kenmerk in unknown]
    undecided = []
    for item in items:
        kenmerk = read_receipt(item.file)
        if kenmerk is None or kenmerk not in left:
            undecided.append(item)
            continue
        left.remove(kenmerk)
        journal.begin_attempt(item.notification.key)  # the POST it had, whose record was lost
        journal.adopt_kenmerk(
            item.notification.key, kenmerk, reason=f"{_RECOVERED}: its receipt names {kenmerk}"
        )
        report.adopted.append((item.notification.key, kenmerk))
    if not left:
        report.unsent.extend(item.notification.key for item in undecided)
        return
    if not undecided:
        report.unexplained.extend(left)
        return
    for item in undecided:
        key = item.notification.key
        journal.begin_attempt(key)
        journal.park(
            key,
            f"{_RECOVERED}: Digipoort lists {len(left)} unknown process(es) for its sender "
            f"({', '.join(left)}) that may be this message: check them with Logius or in the UWV "
            f"portal, then `uwvcli resolve {key} --kenmerk <kenmerk>` or `--not-received`",
        )
        report.parked.append((key, tuple(left)))
