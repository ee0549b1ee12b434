"""Pages for people: the Jinja2 environment (autoescaping), the one stylesheet and the one SVG
chart helper shared by the status page (ingest/ops) and the quality report (ingest/analytics)."""
