"""Rebuild corpus/seeds.jsonl and corpus/excluded.jsonl from the seed files and the annotations.

Segmentation is re-run from seeds/ (so offsets always match the files), then each
sentence gets annotator A's and B's labels (corpus/annotation/) and, where they
differ, the adjudicated label, rationale and note. Repeated sentences (the author
paragraph printed twice in seed 001) are excluded with a recorded reason.

    python tools/build_seed_corpus.py
"""

import json

from stance.persist import atomic_write_text

from stance.corpus import CORPUS_DIR, SEEDS_DIR
from stance.segment import split_sentences

ANN = CORPUS_DIR / "annotation"


def read(name):
    return {r["id"]: r for r in map(json.loads, (ANN / name).read_text(encoding="utf-8").splitlines())}


def main():
    a, b, adj = read("seeds_annotator_a.jsonl"), read("seeds_annotator_b.jsonl"), read("seeds_adjudication.jsonl")
    records, excluded, seen = [], [], {}
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        for i, span in enumerate(split_sentences(path.read_text(encoding="utf-8"))):
            rid = f"{path.stem[:3]}-{i:03d}"
            base = {"id": rid, "source": path.stem, "index": i, "start": span.start, "end": span.end, "text": span.text}
            if span.text in seen:
                excluded.append({**base, "reason": f"repeats {seen[span.text]} verbatim (the author paragraph is printed twice)"})
                continue
            seen[span.text] = rid
            la, lb = a[rid]["label"], b[rid]["label"]
            if la == lb:
                record = {**base, "label": la, "rationale": a[rid]["rationale"], "annotator_a": la, "annotator_b": lb}
            else:
                record = {**base, "label": adj[rid]["label"], "rationale": adj[rid]["rationale"],
                          "annotator_a": la, "annotator_b": lb, "note": adj[rid]["note"]}
            records.append(record)
    dump = lambda rows: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    atomic_write_text(CORPUS_DIR / "seeds.jsonl", dump(records))
    atomic_write_text(CORPUS_DIR / "excluded.jsonl", dump(excluded))
    print(f"{len(records)} records, {len(excluded)} excluded")


if __name__ == "__main__":
    main()
