"""The sandbox's Accounting API (api.xro/2.0): views, serialisation, validation, totals and reports."""
