"""Sandbox accounting data (accounts, tax rates, items, contacts, groups, invoices, payments) per organisation."""

__all__: list[str] = []
