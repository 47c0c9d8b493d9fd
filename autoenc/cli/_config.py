"""Turn jsonargparse's multi-line errors into one line that keeps the key and the reason."""

from __future__ import annotations

import re

_SPECIFIC = re.compile(r"(does not accept|is not accepted|not accepted|Expected|must be|Not a valid|"
                       r"unrecognized|invalid choice|required|does not validate|No action for)", re.I)


def one_line_error(exc: BaseException | str) -> str:
    """One line naming the config key and the most specific reason in ``exc``'s message."""
    text = str(exc).strip()
    lines = [ln.strip(" -") for ln in text.splitlines() if ln.strip(" -")]
    if not lines:
        return type(exc).__name__ if isinstance(exc, BaseException) else "invalid configuration"
    head = lines[0]
    key = re.search(r'[Kk]ey "([^"]+)"', head)
    reasons = [ln for ln in lines[1:] if _SPECIFIC.search(ln) and "Union subtypes" not in ln]
    given = next((ln for ln in lines if ln.startswith("Given value")), "")
    if key and reasons:
        reason = reasons[0]
        return f"{key.group(1)}: {reason}" + (f" ({given.lower()})" if given and "Expected" in reason else "")
    if key and len(lines) > 1:
        return f"{key.group(1)}: {lines[1]}"
    return head
