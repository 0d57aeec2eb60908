"""Where a message goes and under which name: Logius' WUS addresses per environment and the
berichtsoort of each kind of notification (configured, else a documented placeholder)."""

from __future__ import annotations

from collections.abc import Mapping

from uwvcli.digipoort.soap import AANLEVER_PATH, STATUS_PATH
from uwvcli.domain.models import DigipoortSettings, Kind
from uwvcli.errors import UwvcliError

LOGIUS_HOSTS = {
    "preprod": "https://wus.preproductie.digipoort.logius.nl",
    "production": "https://wus.digipoort.logius.nl",
}

# UWV publishes its berichtsoort names only to registered senders. These are PLACEHOLDERS that the
# simulator knows; set the real names under `digipoort.berichtsoorten` before preprod/production.
DEFAULT_BERICHTSOORTEN: Mapping[Kind, str] = {
    Kind.ZW_ZIEKMELDING: "UWV_ZW_ZIEKMELDING",
    Kind.WERKHERVATTING: "UWV_ZW_WERKHERVATTING",
    Kind.MLA: "UWV_ZW_42E_WEEKSMELDING",
    Kind.HERSTEL_MLA: "UWV_ZW_HERSTEL_42E_WEEKSMELDING",
    Kind.WAZO: "UWV_WAZO_AANVRAAG",
}


def berichtsoort_for(settings: DigipoortSettings, kind: Kind) -> str:
    """The configured berichtsoort of a kind, else the documented placeholder."""
    return settings.berichtsoorten.get(kind) or DEFAULT_BERICHTSOORTEN[kind]


def endpoints_for(settings: DigipoortSettings) -> tuple[str, str]:
    """(aanlever URL, status URL): configured URLs win; preprod/production default to Logius' hosts.

    `simulator` has no fixed address (it gets a free port when started), so it is not handled here."""
    host = LOGIUS_HOSTS.get(settings.environment)
    aanlever = settings.aanlever_url or (host + AANLEVER_PATH if host else None)
    status = settings.status_url or (host + STATUS_PATH if host else None)
    if not aanlever or not status:
        raise UwvcliError(
            f"digipoort: environment {settings.environment!r} needs both aanlever_url and status_url "
            "in the configuration (https://… addresses of the WUS services)."
        )
    return aanlever, status
