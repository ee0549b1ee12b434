"""Streaming ingestion of NHS online-triage suppliers' daily per-practice request counts."""

__version__ = "0.1.0"
