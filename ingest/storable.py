"""What PostgreSQL can store as text: no U+0000 and no unpaired surrogate (JSON allows both)."""

from __future__ import annotations

import re
import sys
from typing import Any

# A JSON string may spell "\u0000" or a lone "\ud800"; text and jsonb columns refuse both,
# and a refusal at COMMIT would cost the whole batch (it falls back to one message at a time).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_FLOAT_MAX = sys.float_info.max
# Python refuses to read longer integers (sys.get_int_max_str_digits); cap below it.
MAX_INT_DIGITS = 4000


def storable(value: Any) -> bool:
    """Whether every string in a JSON value (keys included) can be stored as text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def finite_number(value: Any) -> bool:
    """An int or float that fits a finite float8 (an int of 400 digits does not)."""
    # Comparing an int with a float is exact in Python and never overflows; NaN fails both.
    return type(value) in (int, float) and -_FLOAT_MAX <= value <= _FLOAT_MAX


def shown(value: Any) -> str:
    """A value for a reject detail: huge integers by their size, not their digits."""
    if type(value) is int and not -_FLOAT_MAX <= value <= _FLOAT_MAX:
        return f"an integer of {len(str(abs(value)))} digits"
    return repr(value)


def capped_int(digits: str) -> int | str:
    """json parse_int hook for documents Python would refuse: huge integers become a note."""
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        return f"<integer of {len(digits.lstrip('-'))} digits>"
    return int(digits)
