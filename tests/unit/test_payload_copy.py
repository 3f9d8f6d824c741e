"""The test suite's fast copy of SimCord payloads gives what ``copy.deepcopy`` gives."""

from __future__ import annotations

import copy
import enum
from typing import Any

from tests.payload_copy import copy_payload


class Kind(enum.IntEnum):
    TEXT = 0


def test_a_payload_is_copied_equal_and_apart() -> None:
    payload: dict[str, Any] = {
        "id": "1",
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "nothing": None,
        "roles": [{"id": "2", "tags": {}}, {"id": "3", "tags": {"bot_id": "9"}}],
        "pair": ("a", ["b"]),
        "kind": Kind.TEXT,
    }
    copied = copy_payload(payload)
    assert copied == copy.deepcopy(payload) == payload
    copied["roles"][0]["tags"]["premium"] = None
    copied["pair"][1].append("c")
    assert payload["roles"][0]["tags"] == {} and payload["pair"] == ("a", ["b"])
    assert copied["kind"] is Kind.TEXT


def test_shared_parts_stay_shared_as_with_deepcopy() -> None:
    user = {"id": "7", "username": "alice"}
    payload = {"author": user, "member": {"user": user}, "mentions": [user]}
    copied = copy_payload(payload)
    assert copied["author"] is copied["member"]["user"] is copied["mentions"][0]
    assert copied["author"] is not user
