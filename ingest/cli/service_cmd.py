"""``ingest run``: the consumer service."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_service() -> None:
        """Consume every supplier feed topic into Postgres (until SIGTERM/SIGINT)."""
        from ingest.ops.process import main

        main()
