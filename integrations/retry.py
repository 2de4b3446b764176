"""Retry handlers: the task that re-runs a failed operation, registered per (add-on, operation).

An add-on registers its handlers when it loads (e.g. in its AppConfig.ready):

    retry.register(addon_key="xero", operation=SyncOperation.PUSH, handler="xero_sync.tasks.retry_push")

A handler is the dotted path of a django-q2 task taking one argument, the SyncError id. It re-reads the row
(returning quietly when it is gone), repeats the operation from `retry_payload`, and on success calls
`sync_error_resolve_for_record`; on failure it records the error again (the row goes back to open).
"""

from __future__ import annotations

_HANDLERS: dict[tuple[str, str], str] = {}


def register(*, addon_key: str, operation: str, handler: str) -> None:
    _HANDLERS[(addon_key, str(operation))] = handler


def unregister(*, addon_key: str, operation: str) -> None:
    _HANDLERS.pop((addon_key, str(operation)), None)


def handler_for(*, addon_key: str, operation: str) -> str | None:
    return _HANDLERS.get((addon_key, str(operation)))
