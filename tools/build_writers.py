"""Build corpus/writers.jsonl (training) and corpus/outside.jsonl (test) from the writer briefs' raw files.

Inputs in corpus/annotation/writers/: each brief's file as its writer wrote it (label = annotator A),
annotator_*.jsonl from blind annotators (annotator B; ids in annotator_R1_ids.json for the opaque-id
re-annotation of the outside set), and adjudication.jsonl (the final label where A and B disagree).
Run from the repository root: python tools/build_writers.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "corpus" / "annotation" / "writers"
TRAIN_BRIEFS = [f"B{i:02d}" for i in range(1, 17)]
TEST_BRIEFS = ["O1", "O2", "O3"]


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from stance.corpus import normalize

    second: dict[str, dict] = {}
    for path in sorted(SRC.glob("annotator_A*.jsonl")):
        for r in read(path):
            second[r["id"]] = {**r, "annotator": path.stem.removeprefix("annotator_")}
    adjudicated = {r["id"]: r for r in read(SRC / "adjudication.jsonl")}
    known = {normalize(r["text"]) for part in ("seeds", "supplement", "challenge")
             for r in read(ROOT / "corpus" / f"{part}.jsonl")}
    problems = []
    for out_name, briefs in (("writers", TRAIN_BRIEFS), ("outside", TEST_BRIEFS)):
        records = []
        for brief in briefs:
            path = SRC / f"{brief}.jsonl"
            if not path.exists():
                problems.append(f"{path} is missing")
                continue
            for r in read(path):
                b = second.get(r["id"])
                if b is None:
                    problems.append(f"{r['id']}: no second annotation")
                    continue
                label = r["label"]
                if b["label"] != r["label"]:
                    if r["id"] not in adjudicated:
                        problems.append(f"{r['id']}: writer {r['label']} vs {b['annotator']} {b['label']}: not adjudicated")
                        continue
                    label = adjudicated[r["id"]]["label"]
                key = normalize(r["text"])
                if key in known:  # an independent writer can write a bare fact word for word
                    print(f"skipped {r['id']}: duplicates a sentence already in the corpus", file=sys.stderr)
                    continue
                known.add(key)
                rec = {"id": r["id"], "origin": f"brief {brief}", "text": r["text"], "label": label,
                       "rationale": adjudicated[r["id"]]["note"] if r["id"] in adjudicated and label != r["label"] else r["rationale"],
                       "annotator_a": r["label"], "annotator_b": b["label"], "register": r.get("register"),
                       "crisis": r.get("crisis")}
                if out_name == "writers":
                    rec.update({"pair": r.get("pair"), "implicit": bool(r.get("implicit"))})
                records.append(rec)
        (ROOT / "corpus" / f"{out_name}.jsonl").write_text(
            "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in records), encoding="utf-8")
        print(f"corpus/{out_name}.jsonl: {len(records)} sentences")
    for p in problems:
        print("problem:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
