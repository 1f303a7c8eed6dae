"""History: every published opportunity in a database (SQLite by default, PostgreSQL by URL)."""

from titan_scanner.history.repository import OpportunityFilter, OpportunityRepository

__all__ = ["OpportunityFilter", "OpportunityRepository"]
