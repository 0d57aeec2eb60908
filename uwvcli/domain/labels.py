"""Names of the notifications as payroll staff know them (Dutch, as in UWV's own forms)."""

from __future__ import annotations

from uwvcli.domain.models import Kind

KIND_LABELS = {
    Kind.ZW_ZIEKMELDING: "ZW-ziekmelding",
    Kind.WERKHERVATTING: "Werkhervatting",
    Kind.MLA: "42e-weeksmelding",
    Kind.HERSTEL_MLA: "Herstel 42e-weeksmelding",
    Kind.WAZO: "WAZO-aanvraag",
}

VARIANT_LABELS = {"partial": "gedeeltelijk", "full": "volledig"}


def kind_label(kind: Kind, variant: str | None = None) -> str:
    """`Werkhervatting (gedeeltelijk)`, `42e-weeksmelding`, …"""
    label = KIND_LABELS[kind]
    return f"{label} ({VARIANT_LABELS[variant]})" if variant else label
