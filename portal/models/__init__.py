"""The merchant's world: users and their roles, merchants, and the ledger."""

from portal.models.accounts import Membership, Merchant, Role, User
from portal.models.fees import FeeSettings, FeeType, InvoiceNumberSequence, PaidInvoicePolicy
from portal.models.ledger import (
    Account,
    AccountStatus,
    Customer,
    CustomerStatus,
    CustomerType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceType,
    Item,
    LineAmountType,
    Payment,
    PaymentMethod,
    PaymentStatus,
    TaxRate,
)

__all__ = [
    "Account",
    "AccountStatus",
    "Customer",
    "CustomerStatus",
    "CustomerType",
    "FeeSettings",
    "FeeType",
    "Invoice",
    "InvoiceLine",
    "InvoiceNumberSequence",
    "InvoiceStatus",
    "InvoiceType",
    "Item",
    "LineAmountType",
    "Membership",
    "Merchant",
    "PaidInvoicePolicy",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "Role",
    "TaxRate",
    "User",
]
