"""Publish an evaluation into the shipped models: figures into each manifest and model card, the default.

    python tools/publish_evaluation.py reports/metrics.json

For every shipped model directory in models/: adds `evaluation` (outside-writer macro-F1 with its
interval, challenge accuracy, name-swap share, the report it came from) to manifest.json, rewrites
its README.md card from the same figures, and writes models/default.json naming the model that is
best out of distribution (stance.evaluation.protocols.choose_default), with the measure that chose it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(metrics_file: str) -> int:
    sys.path.insert(0, str(ROOT))
    from stance.atomic import atomic_write_text
    from stance.evaluation.protocols import choose_default
    from stance.models.card import write_model_card
    from stance.models.registry import SHIPPED_NAMES

    path = Path(metrics_file)
    report = json.loads(path.read_text(encoding="utf-8"))
    shipped = [n for n in SHIPPED_NAMES if (ROOT / "models" / n / "manifest.json").is_file()]
    for name in shipped:
        m = report["models"].get(name)
        if not m or "outside" not in m:
            print(f"{name}: no out-of-distribution figures in {path}; left as it is")
            continue
        directory = ROOT / "models" / name
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        manifest["evaluation"] = {"outside_macro_f1": round(m["outside"]["macro_f1"], 4),
                                  "outside_macro_f1_ci95": [round(x, 4) for x in m["outside"]["macro_f1_ci95"]],
                                  "challenge_accuracy": round(m["challenge"]["accuracy"], 4),
                                  "name_swap_changed": round(m["name_swap"]["changed_share"], 4),
                                  "report": f"reports/evaluation.md ({report['created']})"}
        atomic_write_text(directory / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        write_model_card(directory, manifest, metrics_file=path)
        print(f"{name}: manifest and card updated")
    best, measure = choose_default(report, shipped)
    atomic_write_text(ROOT / "models" / "default.json", json.dumps(
        {"model": best, "why": f"best out of distribution in the evaluation of {report['created']}", "measure": measure},
        indent=2) + "\n")
    print(f"default: {best} {measure}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "reports" / "metrics.json")))
