"""Accounts, roles, tokens and the audit trail of the gateway."""
