"""Hugging Face style model cards (README.md with a YAML header) for saved models.

Figures come from the last `stance evaluate` run ($STANCE_HOME/reports/metrics.json),
never from typing; out-of-distribution figures lead, cross-validation comes after and
says what it is. A card written before any evaluation says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stance.atomic import atomic_write_text
from stance.labels import LABELS
from stance.models.registry import REGISTRY
from stance.paths import reports_dir


def _metrics_for(kind: str, metrics_file: Path | None = None) -> dict[str, Any] | None:
    try:
        report = json.loads((metrics_file or reports_dir() / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = report.get("models", {}).get(kind) if isinstance(report, dict) else None
    return found if isinstance(found, dict) else None


def _figures(m: dict[str, Any]) -> list[str]:
    lines = []
    if "outside" in m:
        lo, hi = m["outside"]["macro_f1_ci95"]
        lines.append(f"- **outside-writer test set** (written blind by writers who never saw the corpus): macro-F1 "
                     f"{m['outside']['macro_f1']:.3f} (95% bootstrap interval {lo:.3f}–{hi:.3f})")
    if "challenge" in m:
        lines.append(f"- challenge set (minimal pairs, hard cases): accuracy {m['challenge']['accuracy']:.3f}")
    if "name_swap" in m:
        lines.append(f"- name-swap invariance: {100 * m['name_swap']['changed_share']:.1f}% of labels change when "
                     "countries, cities and crises are swapped")
    if "lodo" in m:
        lines.append(f"- leave one seed article out: pooled macro-F1 {m['lodo']['pooled_macro_f1']:.3f}")
    if "cv" in m:
        lines.append(f"- in-distribution cross-validation on the training corpus (flatters; not for choosing models): "
                     f"macro-F1 {m['cv']['macro_f1_mean']:.3f}")
    return lines


def write_model_card(directory: Path, manifest: dict[str, Any], metrics_file: Path | None = None) -> None:
    kind = manifest["kind"]
    spec = REGISTRY.get(kind)
    metrics = _metrics_for(kind, metrics_file)
    yaml = ["---", "language: en", "license: mit", f"library_name: {spec.library if spec else 'sklearn'}",
            "pipeline_tag: text-classification", "datasets:", "- stance-corpus (this repository, corpus/)"]
    if spec and spec.base_model:
        yaml.append(f"base_model: {spec.base_model}")
    yaml += ["tags:", "- stance", "- multilateralism"]
    if metrics and "outside" in metrics:
        yaml += ["model-index:", f"- name: stance-{kind}", "  results:", "  - task:", "      type: text-classification",
                 "    dataset:", "      name: stance outside-writer test set", "      type: stance-outside",
                 "    metrics:", "    - type: f1", "      name: macro-F1", f"      value: {metrics['outside']['macro_f1']:.4f}"]
    yaml.append("---")
    training = manifest.get("training", {})
    lines = yaml + [
        f"# stance — {kind} model", "", spec.description if spec else kind, "",
        "## Labels (output order)", "", ", ".join(f"`{label}`" for label in LABELS), "",
        "## Evaluation", "",
    ]
    lines += _figures(metrics) if metrics else ["No evaluation has been run yet: run `stance evaluate`."]
    lines += ["", "## Training", "",
              f"- stance version: {manifest['stance_version']}, model format {manifest['format_version']}",
              f"- trained: {training.get('trained_at')}, on {training.get('n_train')} sentences "
              f"({json.dumps(training.get('label_counts'))})",
              f"- training data: {manifest.get('training_data', 'see the manifest')}; sha256 `{manifest.get('corpus_sha256')}`",
              f"- configuration: `{json.dumps(training.get('params'), default=str)[:600]}`", "",
              "## Intended use", "",
              "Teaching and exploratory analysis of English sentences about international crises: whether a "
              "sentence supports the UN, NATO/allies/regional bodies, a single state acting alone, doubts "
              "multilateral help, or takes no such stance.", "",
              "## Limits", "",
              "- Trained on four press articles about the Iraq war and sentences written for the project by a few "
              "dozen writer briefs; real text from other genres and crises scores well below in-distribution "
              "cross-validation (see the evaluation figures above).",
              "- One label per sentence; irony, long multi-claim sentences and implicit stance are hard.",
              "- Not for decisions about people; probabilities are not calibrated beyond the training distribution.", ""]
    atomic_write_text(Path(directory) / "README.md", "\n".join(lines))
