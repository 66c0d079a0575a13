"""Who may do what: principals from token claims and the one `authorize()` decision point."""

from companyos.auth.policy import Principal, authorize, personas_for

__all__ = ["Principal", "authorize", "personas_for"]
