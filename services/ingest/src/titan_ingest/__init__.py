"""Titan ingest: exact, live pool state from the chain."""
