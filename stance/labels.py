"""The five stance labels, in the one canonical order used everywhere.

Every file, model config, probability column and plot uses this order; change it
and every saved model's manifest stops matching (which `stance.models.manifest` checks).
"""

from __future__ import annotations

LABELS: tuple[str, ...] = ("pro-UN", "pro-NATO", "unilateral", "skeptical", "none")
LABEL2ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))


def check_label(label: object) -> str:
    """Return `label` if it is one of LABELS, else raise a ValueError naming the allowed ones."""
    if not isinstance(label, str) or label not in LABEL2ID:
        raise ValueError(f"unknown label {label!r}: allowed labels are {', '.join(LABELS)}")
    return label
