"""SQL constructs the figures need that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class days_between(FunctionElement):  # noqa: N801 — used like a SQL function
    """``days_between(van, tot)``: whole days from date ``van`` to date ``tot`` (negative when ``tot``
    comes first), as an integer on both backends."""

    type = Integer()
    inherit_cache = True
    name = "dagen_tussen"


@compiles(days_between)
def _difference(element, compiler, **kw):
    # PostgreSQL: date - date is an integer number of days.
    start, end = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


@compiles(days_between, "sqlite")
def _difference_sqlite(element, compiler, **kw):
    # SQLite keeps dates as ISO text; julianday() makes them numbers (whole days apart at midnight).
    start, end = list(element.clauses)
    return f"CAST(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}) AS INTEGER)"
