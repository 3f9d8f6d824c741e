"""``copy_payload``: ``copy.deepcopy`` for JSON-shaped data, three times faster, same result.

SimCord deep-copies every gateway event before discord.py parses it, every request the bot sends
(for its request log) and every message a test reads back: a few percent of a behaviour test's CPU
time, nearly all of it ``deepcopy``'s generic machinery (a dispatch table lookup, the memo, the
keep-alive list) spent on plain dicts, lists and strings. Here those are copied directly; anything
else (a tuple, an enum, an object) goes through ``copy.deepcopy`` with the same memo. As with
``deepcopy``, an object met twice is copied once, so shared parts stay shared in the copy.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

_ATOMIC = frozenset({str, int, float, bool, type(None)})


def copy_payload(value: Any, memo: dict[int, Any] | None = None) -> Any:
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if memo is None:
        memo = {}
    done = memo.get(id(value))
    if done is not None:
        return done
    if kind is dict:
        copied: dict[Any, Any] = {}
        memo[id(value)] = copied
        for key, item in value.items():
            copied[key] = item if type(item) in _ATOMIC else copy_payload(item, memo)
        return copied
    if kind is list:
        items: list[Any] = []
        memo[id(value)] = items
        items.extend(item if type(item) in _ATOMIC else copy_payload(item, memo) for item in value)
        return items
    return copy.deepcopy(value, memo)


# Stands in for the ``copy`` module in the SimCord modules that call ``copy.deepcopy(...)``.
COPY_MODULE = SimpleNamespace(deepcopy=copy_payload, copy=copy.copy)
