"""The Xero add-on's own rows: the connection to an organisation (tokens encrypted) and API pacing state."""

from xero_sync.models.connection import ConnectionStatus, RetentionInterval, XeroConnection
from xero_sync.models.limits import XeroCallSlot, XeroRateState
from xero_sync.models.pending import XeroPendingAuthorisation, XeroPendingRevocation
from xero_sync.models.sync import XeroSyncState, XeroWebhookEvent
from xero_sync.models.writes import (
    FeeKind,
    InvoiceStatusOnPush,
    WriteKind,
    WriteState,
    XeroWrite,
    XeroWriteSettings,
)

__all__ = [
    "ConnectionStatus",
    "FeeKind",
    "InvoiceStatusOnPush",
    "RetentionInterval",
    "WriteKind",
    "WriteState",
    "XeroCallSlot",
    "XeroConnection",
    "XeroPendingAuthorisation",
    "XeroPendingRevocation",
    "XeroRateState",
    "XeroSyncState",
    "XeroWebhookEvent",
    "XeroWrite",
    "XeroWriteSettings",
]
