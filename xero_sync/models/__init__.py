"""The Xero add-on's own rows: the connection to an organisation (tokens encrypted) and API pacing state."""

from xero_sync.models.connection import ConnectionStatus, RetentionInterval, XeroConnection

__all__ = ["ConnectionStatus", "RetentionInterval", "XeroConnection"]
