"""Rebuild corpus/supplement.jsonl and corpus/challenge.jsonl from the authored files and their annotations.

Supplement: writer k's sentences get ids supk-NNNN (line order), the writer's label as
annotator A, the blind second annotator's label as B; where they differ the
adjudication decides (a sentence adjudicated "drop" is left out, with its reason
printed). Challenge: the same, ids ch-NNNN.

    python tools/build_supplement.py
"""

import json

from stance.persist import atomic_write_text

from stance.corpus import CORPUS_DIR

ANN = CORPUS_DIR / "annotation"


def rows(name):
    path = ANN / name
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()] if path.exists() else []


def merge(prefix, writer, second, adjudication, extra_keys):
    b = {r["id"]: r for r in second}
    adj = {r["id"]: r for r in adjudication}
    out, dropped = [], []
    for i, w in enumerate(writer, 1):
        rid = f"{prefix}-{i:04d}"
        if rid not in b:
            raise SystemExit(f"{rid} has no second annotation: annotate it before building")
        record = {"id": rid, "text": w["text"], "label": w["label"], "rationale": w["rationale"],
                  "annotator_a": w["label"], "annotator_b": b[rid]["label"], **{k: w.get(k) for k in extra_keys}}
        if w["label"] != b[rid]["label"]:
            if rid not in adj:
                raise SystemExit(f"{rid}: annotators disagree ({w['label']} vs {b[rid]['label']}) and there is no adjudication")
            if adj[rid]["label"] == "drop":
                dropped.append((rid, adj[rid]["note"]))
                continue
            record.update(label=adj[rid]["label"], rationale=adj[rid]["rationale"], note=adj[rid]["note"])
        out.append(record)
    return out, dropped


def main():
    dump = lambda rs: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs)
    adjudication = rows("supplement_adjudication.jsonl")
    supplement = []
    for k in (1, 2, 3, 4, 5):
        writer = rows(f"supplement_writer_{k}.jsonl")
        second = rows(f"supplement_annotator_b_{k}.jsonl")
        if not second:
            print(f"writer {k}: no second annotation yet, left out")
            continue
        part, dropped = merge(f"sup{k}", writer, second, adjudication, ("crisis", "register", "shape"))
        for rid, why in dropped:
            print(f"dropped {rid}: {why}")
        supplement += [{"id": r["id"], "origin": "authored", **{x: y for x, y in r.items() if x != "id"}} for r in part]
    challenge, dropped = merge("ch", rows("challenge_writer.jsonl"), rows("challenge_annotator_b.jsonl"),
                               rows("challenge_adjudication.jsonl"), ("pair", "phenomenon"))
    atomic_write_text(CORPUS_DIR / "supplement.jsonl", dump(supplement))
    atomic_write_text(CORPUS_DIR / "challenge.jsonl", dump(challenge))
    print(f"supplement: {len(supplement)} sentences; challenge: {len(challenge)} items")


if __name__ == "__main__":
    main()
