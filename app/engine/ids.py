"""Task ids that hash and print without a Python call (issue 23).

The library keys every task by its `uuid.UUID` id: `workflow.tasks`, a task's `_parent` and `_children`, the
subprocesses, the event manager. Every lookup hashes the id, and `UUID.__hash__` is a Python method (≈ 600 calls per
approval instance); every `str(id)` (a task guid, a saved id) formats the number in Python. A `TaskId` is a `UUID`
(`isinstance`, `==`, ordering, `int`, `hex`, `bytes` … are `UUID`'s own) that keeps its hash and its canonical text
from when it was made and gives them back from C: `__hash__` and `__str__` are properties whose getter
(`attrgetter`, C) returns a bound C method (`int.__index__` of the hash, `str.__str__` of the text), which the
interpreter's hash and str slots then call. So a `TaskId` and a plain `UUID` of the same value hash and compare
equal and mix in one dict; `repr` is `UUID('…')` as for a plain one; a copy or a pickle is a `TaskId` again.

Task ids become `TaskId`s where they are made: a load parses the saved ids into them (`codec`), and the tasks the
library creates draw theirs from `new_task_id` (`patches` points `SpiffWorkflow.task.uuid4` at it).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from operator import attrgetter
from uuid import UUID, SafeUUID


class TaskId(UUID):
    """A `UUID` whose hash and text are computed once (see the module docstring). Made by `task_id_of_text`,
    `task_id_of_int` and `new_task_id` only (the constructor is `UUID`'s, which leaves them unset)."""

    __slots__ = ("_hash", "_text")
    _hash: Callable[[], int]        # the hash's bound `int.__index__`
    _text: Callable[[], str]        # the canonical text's bound `str.__str__`

    __hash__ = property(attrgetter("_hash"))
    __str__ = property(attrgetter("_text"))

    def __repr__(self) -> str:
        return f"UUID('{self._text()}')"

    def __reduce__(self):
        return task_id_of_text, (self._text(),)


_new = object.__new__
_set_int = UUID.__dict__["int"].__set__             # UUID's slots, set as `UUID.__init__` does (it is immutable)
_set_safe = UUID.__dict__["is_safe"].__set__
_set_hash = TaskId.__dict__["_hash"].__set__
_set_text = TaskId.__dict__["_text"].__set__
_UNKNOWN = SafeUUID.unknown


def _made(value: int, text: str) -> TaskId:
    obj = _new(TaskId)
    _set_int(obj, value)
    _set_safe(obj, _UNKNOWN)
    _set_hash(obj, hash(value).__index__)           # UUID.__hash__ is hash(self.int)
    _set_text(obj, text.__str__)
    return obj


def _canonical(value: int) -> str:
    """`str(UUID(int=value))`, as `UUID.__str__` writes it."""
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def task_id_of_int(value: int) -> TaskId:
    """The `TaskId` of a 128-bit value (`UUID(int=value)`)."""
    if not 0 <= value < 1 << 128:
        raise ValueError("int is out of range (need a 128-bit value)")
    return _made(value, _canonical(value))


def task_id_of_text(text: str) -> UUID:
    """`UUID(text)` as a `TaskId` when `text` is the canonical form `str(UUID)` writes (lower-case hex in 8-4-4-4-12);
    any other form `UUID` accepts (upper case, braces, a urn, no hyphens) gives a plain `UUID` (its `str` differs from
    the text: the codec keeps that text to save it as it was read); a text `UUID` refuses raises its ValueError."""
    if len(text) == 36:
        try:
            value = int(text.replace("-", ""), 16)
        except ValueError:
            pass
        else:
            if _canonical(value) == text:
                return _made(value, text)
    return UUID(text)


_URANDOM = os.urandom
_VERSION_4_CLEAR = ~((0xc000 << 48) | (0xf000 << 64))
_VERSION_4_SET = (0x8000 << 48) | (4 << 76)


def new_task_id() -> TaskId:
    """`uuid.uuid4()` as a `TaskId`: 16 random bytes with the variant and version bits `UUID(bytes=…, version=4)`
    sets."""
    value = (int.from_bytes(_URANDOM(16), "big") & _VERSION_4_CLEAR) | _VERSION_4_SET
    return _made(value, _canonical(value))
