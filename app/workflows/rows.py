"""A step's new rows' INSERT parameters without the ORM's attribute events (issue 23.2).

`app.core.db.insert_params` completes a new object's columns that are unset, or None where None is not a value of
their type, through the object's instrumented attributes: a `setattr` per such column (≈ 40 µs of CPU for a task row,
most of whose 27 columns are None). The rows a step inserts with a Core statement (its new task rows, a start's
instance) are transient objects that `hold_as_loaded` makes clean persistent ones right after the INSERT, which
discards whatever change history the events recorded: nobody reads it. `NewRowParams` gives the parameters
`insert_params` gives and leaves the object holding the same values, writing them into the object's `__dict__` from
a plan made once per list of columns (tests/unit/test_insert_values.py holds the two equal).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, null


class NewRowParams:
    """`insert_params(obj, columns)` for a transient object about to be written by a Core INSERT and then held as
    loaded (`app.core.db.hold_as_loaded`)."""

    __slots__ = ("_plan",)

    def __init__(self, columns: list[Column[Any]]) -> None:
        plan: list[tuple[str, bool, Any, Callable[[Any], Any] | None]] = []
        for column in columns:
            if column.default is None and column.server_default is not None:
                raise ValueError(f"{column}: a server default alone cannot be written by a shared INSERT; "
                                 "give the column a Python default")
            arg = getattr(column.default, "arg", None)
            plan.append((column.key, bool(column.type.should_evaluate_none), None if callable(arg) else arg,
                         arg if callable(arg) else None))
        self._plan = tuple(plan)

    def __call__(self, obj: Any) -> dict[str, Any]:
        """The INSERT parameters of `obj`, whose unset (or None, where None is not a value) columns take their Python
        default (NULL without one), set on the object as `insert_params` sets them, without attribute events."""
        state = obj.__dict__
        params: dict[str, Any] = {}
        for key, evaluates_none, default, make in self._plan:
            value = state.get(key)
            if value is not None or (evaluates_none and key in state):
                params[key] = value
                continue
            value = make({}) if make is not None else default
            state[key] = value
            params[key] = null() if value is None and evaluates_none else value
        return params
