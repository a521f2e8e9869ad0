"""Name-swap invariance: does the label follow the stance, or the names in the sentence?

Every country, city or crisis place name from the lists below that a sentence mentions
is swapped, consistently, for another of the same kind; a model that reads stance gives
the variant the label it gave the original. The share of variants whose label changes
is the measure (lower is better). People's names are never swapped in, so no variant
puts words in a real person's mouth.
"""

from __future__ import annotations

import random
import re
from typing import Any, Sequence

COUNTRIES = (
    "Afghanistan", "Albania", "Algeria", "Angola", "Argentina", "Australia", "Austria", "Bangladesh", "Belgium",
    "Bolivia", "Bosnia", "Brazil", "Bulgaria", "Burundi", "Cambodia", "Cameroon", "Canada", "Chad", "Chile", "China",
    "Colombia", "Croatia", "Cuba", "Cyprus", "Denmark", "Ecuador", "Egypt", "Eritrea", "Ethiopia", "Fiji", "Finland",
    "France", "Gabon", "Georgia", "Germany", "Ghana", "Greece", "Guatemala", "Guinea", "Haiti", "Honduras", "Hungary",
    "India", "Indonesia", "Iran", "Iraq", "Ireland", "Israel", "Italy", "Japan", "Jordan", "Kazakhstan", "Kenya",
    "Kosovo", "Kuwait", "Kyrgyzstan", "Laos", "Latvia", "Lebanon", "Liberia", "Libya", "Lithuania", "Malawi",
    "Malaysia", "Mali", "Mexico", "Moldova", "Mongolia", "Morocco", "Mozambique", "Myanmar", "Namibia", "Nepal",
    "Netherlands", "New Zealand", "Nicaragua", "Niger", "Nigeria", "North Korea", "Norway", "Oman", "Pakistan",
    "Panama", "Paraguay", "Peru", "Poland", "Portugal", "Qatar", "Romania", "Russia", "Rwanda", "Saudi Arabia",
    "Senegal", "Serbia", "Sierra Leone", "Slovakia", "Somalia", "South Africa", "South Korea", "South Sudan", "Spain",
    "Sri Lanka", "Sudan", "Sweden", "Switzerland", "Syria", "Tajikistan", "Tanzania", "Thailand", "Togo", "Tunisia",
    "Turkey", "Uganda", "Ukraine", "Uruguay", "Uzbekistan", "Venezuela", "Vietnam", "Yemen", "Zambia", "Zimbabwe",
    "Britain", "the United States", "Belarus", "Armenia", "Azerbaijan", "East Timor", "Solomon Islands",
)
CITIES = (
    "Kabul", "Baghdad", "Basra", "Mosul", "Damascus", "Aleppo", "Tripoli", "Benghazi", "Kigali", "Kinshasa", "Goma",
    "Juba", "Khartoum", "Mogadishu", "Nairobi", "Addis Ababa", "Bamako", "Timbuktu", "Freetown", "Monrovia",
    "Port-au-Prince", "Sarajevo", "Srebrenica", "Belgrade", "Pristina", "Kyiv", "Kharkiv", "Mariupol", "Odesa",
    "Tbilisi", "Dili", "Yangon", "Sanaa", "Aden", "Beirut", "Gaza", "Tehran", "Islamabad", "Kandahar", "Helmand",
    "Geneva", "New York", "Brussels", "Washington", "London", "Paris", "Berlin", "Moscow", "Beijing", "Ankara",
    "Cairo", "Abuja", "Dakar", "Maputo", "Harare", "Lima", "Caracas", "Bogota", "Havana", "Managua",
)
KINDS = {"country": COUNTRIES, "city": CITIES}


def _pattern(names: Sequence[str]) -> re.Pattern[str]:
    alternatives = sorted(names, key=len, reverse=True)  # "South Sudan" before "Sudan"
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in alternatives) + r")(?![\w-])")


_PATTERNS = {kind: _pattern(names) for kind, names in KINDS.items()}


def mentions(text: str) -> dict[str, list[str]]:
    """The listed names a text mentions, by kind."""
    found = {kind: sorted(set(p.findall(text))) for kind, p in _PATTERNS.items()}
    return {k: v for k, v in found.items() if v}


def swap_variants(text: str, n: int, rng: random.Random) -> list[str]:
    """Up to `n` distinct variants of `text`, each swapping every mentioned name for another of its kind."""
    found = mentions(text)
    if not found:
        return []
    variants: list[str] = []
    for _ in range(n * 4):
        mapping: dict[str, str] = {}
        for kind, names in found.items():
            pool = [x for x in KINDS[kind] if x not in names]
            for old, new in zip(names, rng.sample(pool, len(names))):
                mapping[old] = new
        variant = text
        for kind in found:
            variant = _PATTERNS[kind].sub(lambda m: mapping.get(m.group(1), m.group(1)), variant)  # noqa: B023
        if variant != text and variant not in variants:
            variants.append(variant)
        if len(variants) == n:
            break
    return variants


def build_swaps(texts: Sequence[str], per_sentence: int = 6, seed: int = 0) -> list[tuple[int, str]]:
    """(index of the original text, variant) pairs for every text that mentions a listed name."""
    rng = random.Random(seed)
    return [(i, v) for i, t in enumerate(texts) for v in swap_variants(t, per_sentence, rng)]


def name_swap(model: Any, texts: Sequence[str], per_sentence: int = 6, seed: int = 0) -> dict[str, Any]:
    """Share of name-swapped variants whose predicted label differs from the original's."""
    swaps = build_swaps(texts, per_sentence, seed)
    if not swaps:
        return {"variants": 0, "sentences": 0, "changed_share": 0.0, "examples": []}
    used = sorted({i for i, _ in swaps})
    original = dict(zip(used, model.predict([texts[i] for i in used])))
    swapped = model.predict([v for _, v in swaps])
    changed = [(i, v, p) for (i, v), p in zip(swaps, swapped) if p != original[i]]
    return {"variants": len(swaps), "sentences": len(used), "changed_share": len(changed) / len(swaps),
            "examples": [{"original": texts[i], "original_label": original[i], "variant": v, "variant_label": p}
                         for i, v, p in changed[:5]]}


def augment(texts: Sequence[str], labels: Sequence[str], per_sentence: int = 1, seed: int = 0) -> tuple[list[str], list[str]]:
    """Training data plus `per_sentence` name-swapped variants of every sentence that mentions a listed name.

    The variants keep their sentence's label: the model sees that the names do not decide the stance.
    Evaluate with a different `seed` than training, so the test variants are not the training ones.
    """
    rng = random.Random(seed)
    out_t, out_l = list(texts), list(labels)
    for text, label in zip(texts, labels):
        for variant in swap_variants(text, per_sentence, rng):
            out_t.append(variant)
            out_l.append(label)
    return out_t, out_l
