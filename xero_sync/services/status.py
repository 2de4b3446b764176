"""What the add-on page shows about syncing: the active or last run with its per-step progress, the last success."""

from __future__ import annotations

from integrations.selectors import sync_run_active, sync_run_last_succeeded, sync_runs_recent
from portal.models import Merchant
from xero_sync.addon import XERO

STEP_LABELS = {
    "accounts": "Chart of accounts",
    "items": "Items",
    "contacts": "Contacts",
    "invoices": "Invoices",
    "payments": "Payments",
    "open_invoices": "Open invoices check",
    "customer_types": "Contact groups → customer types",
    "webhook": "Changes from Xero",
}


def run_payload(run) -> dict | None:
    if run is None:
        return None
    steps = []
    for name, entry in run.ordered_progress():
        done, total = entry.get("done") or 0, entry.get("total")
        finished = run.state == "succeeded" or (total is not None and done >= total and name != run.current_step)
        steps.append(
            {
                "name": name,
                "label": STEP_LABELS.get(name, name.replace("_", " ").capitalize()),
                "done": done,
                "total": total,
                "percent": 100 if finished else (min(100, round(100 * done / total)) if total else 0),
                "current": name == run.current_step and run.state in ("queued", "running"),
            }
        )
    return {
        "id": run.pk,
        "kind": run.kind,
        "kind_label": run.get_kind_display(),
        "state": run.state,
        "state_label": run.get_state_display(),
        "current_step": run.current_step,
        "steps": steps,
        "counts": run.counts,
        "api_calls": run.api_calls,
        "error": run.error_summary,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def sync_status_for(*, merchant: Merchant) -> dict:
    active = sync_run_active(merchant=merchant, addon_key=XERO.key)
    last_ok = sync_run_last_succeeded(merchant=merchant, addon_key=XERO.key)
    shown = active or next(iter(sync_runs_recent(merchant=merchant, addon_key=XERO.key, limit=1)), None)
    return {
        "active": active is not None,
        "run": run_payload(shown),
        "last_success_at": last_ok.finished_at.isoformat() if last_ok and last_ok.finished_at else None,
    }
