"""An amount in Chinese financial capitals (价税合计大写), as written on a fapiao."""

from __future__ import annotations

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ((3, "仟"), (2, "佰"), (1, "拾"), (0, ""))
_GROUPS = ("", "万", "亿", "万亿")


def _group(n: int) -> str:
    """0 < n < 10000 in capitals; inner zeros collapse to one 零, trailing zeros vanish."""
    out, zero = "", False
    for power, place in _PLACES:
        digit = n // 10**power % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + place
    return out


def integer_in_words(n: int) -> str:
    """A whole number below 10^16 in capitals: 1001 -> 壹仟零壹, 100010000 -> 壹亿零壹万."""
    if not 0 <= n < 10**16:
        raise ValueError(f"{n} is out of range for amounts in words")
    if n == 0:
        return "零"
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, gap = "", False
    for idx in reversed(range(len(groups))):
        g = groups[idx]
        if g == 0:
            gap = bool(out)
            continue
        if out and (gap or g < 1000):
            out += "零"
        out += _group(g) + _GROUPS[idx]
        gap = False
    return out


def cny_in_words(fen: int) -> str:
    """Fen as 人民币 capitals: 42930 -> 肆佰贰拾玖元叁角整, 105 -> 壹元零伍分, -5 -> 负伍分."""
    if fen < 0:
        return "负" + cny_in_words(-fen)
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    head = integer_in_words(yuan) + "元" if yuan or not (jiao or cents) else ""
    if not jiao and not cents:
        return head + "整"
    tail = (_DIGITS[jiao] + "角" if jiao else ("零" if yuan else "")) + (
        _DIGITS[cents] + "分" if cents else "整"
    )
    return head + tail
