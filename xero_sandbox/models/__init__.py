"""The sandbox's own database: identity (apps, users, organisations, tokens, limits) and accounting data."""

from xero_sandbox.models.accounting import *  # noqa: F403
from xero_sandbox.models.identity import *  # noqa: F403
