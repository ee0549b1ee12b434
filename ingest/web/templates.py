"""The Jinja2 environment of the HTML pages: package templates, autoescaping always on.

Every value a template prints is escaped (HTML text and attribute values alike); markup is
written only in the templates under ``ingest/web/templates``, never assembled in Python.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


def svg_number(value: float) -> str:
    """A coordinate for SVG: at most one decimal, no trailing ``.0``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@cache
def environment() -> Environment:
    """The shared environment: templates shipped as package data, strict about names."""
    env = Environment(
        loader=PackageLoader("ingest.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["svgnum"] = svg_number
    env.filters["thousands"] = "{:,}".format
    return env


def render_page(template: str, **context: Any) -> str:
    """Render ``template`` (a file under ingest/web/templates) with ``context``."""
    return environment().get_template(template).render(**context)
