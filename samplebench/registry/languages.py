"""Language codes: BCP-47 tags (`en`, `en-US`, `zh-Hans-CN`) or ISO 639-3 + script (`eng-Latn`).

A tag is `language[-Script][-REGION]` where `language` is an ISO 639-1 (2 letters) or ISO 639-3
(3 letters) code, `Script` an ISO 15924 code and `REGION` an ISO 3166-1 alpha-2 code or a UN M.49
three-digit area. Codes are checked against pycountry's ISO tables, so `english` or `xx-Latn`
fail when the spec is built, not when somebody finally filters by language.
"""

from __future__ import annotations

import re
from functools import cache

_TAG = re.compile(r"^(?P<lang>[A-Za-z]{2,3})(?:-(?P<script>[A-Za-z]{4}))?(?:-(?P<region>[A-Za-z]{2}|\d{3}))?$")


@cache
def _tables() -> tuple[dict[str, str], set[str], set[str]]:
    import pycountry

    to_alpha3: dict[str, str] = {}
    for lang in pycountry.languages:
        a3 = lang.alpha_3
        to_alpha3[a3] = a3
        if hasattr(lang, "alpha_2"):
            to_alpha3[lang.alpha_2] = a3
    # ISO 639-2/B bibliographic codes that differ from 639-3 (e.g. ger, fre, chi) are common in the wild.
    for lang in pycountry.languages:
        b = getattr(lang, "bibliographic", None)
        if b:
            to_alpha3.setdefault(b, lang.alpha_3)
    scripts = {s.alpha_4 for s in pycountry.scripts}
    regions = {c.alpha_2 for c in pycountry.countries}
    return to_alpha3, scripts, regions


def validate_language(code: str) -> str:
    """Return `code` in canonical case (`eng-Latn`, `en-US`) or raise ValueError saying what is allowed."""
    m = _TAG.fullmatch(code)  # `$` alone would accept a trailing newline
    allowed = "use a BCP-47 tag like 'en' or 'en-US', or ISO 639-3 + script like 'eng-Latn'"
    if not m:
        raise ValueError(f"'{code}' is not a language code; {allowed}")
    to_alpha3, scripts, regions = _tables()
    lang = m["lang"].lower()
    if lang not in to_alpha3:
        raise ValueError(f"'{code}': unknown language '{m['lang']}' (not in ISO 639-1/639-3); {allowed}")
    parts = [lang]
    if m["script"]:
        script = m["script"].title()
        if script not in scripts:
            raise ValueError(f"'{code}': unknown script '{m['script']}' (not in ISO 15924); {allowed}")
        parts.append(script)
    if m["region"]:
        region = m["region"].upper()
        if not region.isdigit() and region not in regions:
            raise ValueError(f"'{code}': unknown region '{m['region']}' (not in ISO 3166-1); {allowed}")
        parts.append(region)
    return "-".join(parts)


def language_key(code: str) -> str:
    """The ISO 639-3 code of a tag's language, so `en`, `en-US` and `eng-Latn` compare equal."""
    lang = code.split("-", 1)[0].lower()
    return _tables()[0].get(lang, lang)
