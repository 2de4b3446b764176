"""Links from the error log and the audit trail to a record in the portal and in the add-on's own system.

An add-on registers how to find its organisation code for a merchant (Xero: the organisation's ShortCode,
read from the connection) and, if it is not Xero, how to build a record URL from it:

    links.register(addon_key="xero", org_code=lambda merchant: connection_short_code(merchant))
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from django.urls import NoReverseMatch, reverse

_XERO_LOGIN = "https://go.xero.com/organisationlogin/default.aspx"
# Xero's own pages per record kind (redirecturl is relative to the organisation).
_XERO_PAGES = {
    "invoice": "/AccountsReceivable/View.aspx?InvoiceID={id}",
    "fee": "/AccountsReceivable/View.aspx?InvoiceID={id}",
    "bill": "/AccountsPayable/View.aspx?InvoiceID={id}",
    "contact": "/Contacts/View/{id}",
    "customer": "/Contacts/View/{id}",
    "credit_note": "/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={id}",
}
# Portal pages per record kind (URL names taking the portal id).
_PORTAL_PAGES = {
    "invoice": "portal:invoice",
    "fee": "portal:invoice",
    "customer": "portal:customer",
    "contact": "portal:customer",
}


def xero_record_url(*, short_code: str, record_kind: str, external_id: str) -> str:
    """A deep link that opens the record in the right Xero organisation ('' when Xero has no page for it)."""
    page = _XERO_PAGES.get(record_kind)
    if not (short_code and external_id and page):
        return ""
    redirect = page.format(id=quote(external_id, safe=""))
    return f"{_XERO_LOGIN}?shortcode={quote(short_code, safe='')}&redirecturl={redirect}"


OrgCode = Callable[[object], str | None]  # merchant -> organisation code
RecordUrl = Callable[..., str]  # (short_code=, record_kind=, external_id=) -> url

_ORG_CODES: dict[str, OrgCode] = {}
_RECORD_URLS: dict[str, RecordUrl] = {"xero": xero_record_url}


def register(*, addon_key: str, org_code: OrgCode | None = None, record_url: RecordUrl | None = None) -> None:
    if org_code is not None:
        _ORG_CODES[addon_key] = org_code
    if record_url is not None:
        _RECORD_URLS[addon_key] = record_url


def unregister(*, addon_key: str) -> None:
    _ORG_CODES.pop(addon_key, None)
    if addon_key != "xero":
        _RECORD_URLS.pop(addon_key, None)


def external_record_url(*, merchant, addon_key: str, record_kind: str, external_id: str) -> str:
    """The record's page in the add-on's system, or '' when it cannot be built (yet)."""
    org_code, record_url = _ORG_CODES.get(addon_key), _RECORD_URLS.get(addon_key)
    if not (org_code and record_url and external_id):
        return ""
    short_code = org_code(merchant)
    if not short_code:
        return ""
    return record_url(short_code=short_code, record_kind=record_kind, external_id=external_id)


def portal_record_url(*, record_kind: str, record_id: int | None) -> str:
    name = _PORTAL_PAGES.get(record_kind)
    if not (name and record_id):
        return ""
    try:
        return reverse(name, args=[record_id])
    except NoReverseMatch:
        return ""
