"""Caption rules checked before any call (§8): ≤ 2,200 characters, ≤ 30 hashtags, ≤ 20
@-mentions, said in words the user can act on. Length is counted in code points; how Meta
counts is UNCONFIRMED (§8), and the emulator counts the same way."""

from __future__ import annotations

import re

MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
_HASHTAG = re.compile(r"(?<![\w&])#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")


def caption_problems(caption: str) -> list[str]:
    """Every reason Instagram would refuse this caption, in plain words."""
    problems = []
    if len(caption) > MAX_CAPTION:
        problems.append(
            f"The caption has {len(caption)} characters; Instagram allows {MAX_CAPTION}."
        )
    hashtags = len(_HASHTAG.findall(caption))
    if hashtags > MAX_HASHTAGS:
        problems.append(f"The caption has {hashtags} hashtags; Instagram allows {MAX_HASHTAGS}.")
    mentions = len(_MENTION.findall(caption))
    if mentions > MAX_MENTIONS:
        problems.append(
            f"The caption mentions {mentions} accounts; Instagram allows {MAX_MENTIONS}."
        )
    return problems
