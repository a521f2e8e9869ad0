"""Speed and memory of stance, measured (not asserted): one command prints the table.

    .venv/bin/python bench/bench.py [--models tfidf,mpnet] [--finetune minilm] [--out bench/results.md]

Measures, each in a fresh process where start-up matters:
- `import stance` time (median of 5 runs);
- cold first predict per model (process start to first answer, model load included; median of 3, after one
  run that builds the caches: the joined mpnet and its int8 copy);
- the cold first CLI predict of the default model (`stance predict "..."`, wall time, median of 3);
- throughput in sentences/s per model at batch 1 (200 calls) and batch 64 (640 sentences), on real corpus
  sentences, median of 3 runs;
- peak RSS of a process that loads the model and predicts 1,000 sentences;
- fine-tuning time of a registered model (--finetune minilm|mpnet) on the whole training corpus (shipped settings).

Rows: the shipped models as `stance.predict` runs them (mpnet through its int8 copy), mpnet in fp32 torch
(STANCE_RUNTIME=torch), and a peer: plain sentence-transformers `encode` + scikit-learn logistic regression
over the same mpnet weights (the LR fitted on 64 sentences inside the timed process).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def child(code: str, env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**ENV, **(env or {})},
                         cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


IMPORT = "import time, json; t = time.perf_counter(); import stance; print(json.dumps({'s': time.perf_counter() - t}))"
COLD = ("import time, json; t = time.perf_counter(); import stance; "
        "p = stance.predict('The Security Council should authorise the mission.', model={m!r}); "
        "print(json.dumps({{'s': time.perf_counter() - t}}))")
# Peak RSS of the child itself: Linux's VmHWM. (getrusage's ru_maxrss survives exec, so a child started by a
# parent that had loaded a torch model reported the parent's peak: the mpnet rows read 1,368-1,428 MiB that way.)
PEAK = ("def peak_mib():\n"
        "    import resource\n"
        "    try:\n"
        "        line = [x for x in open('/proc/self/status') if x.startswith('VmHWM:')][0]\n"
        "        return int(line.split()[1]) / 1024\n"
        "    except (OSError, IndexError):\n"
        "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n")
RSS = PEAK + ("import json, stance; from stance.corpus import texts_and_labels; "
              "texts = (texts_and_labels('shipped')[0] * 2)[:1000]; stance.predict(texts, model={m!r}); "
              "print(json.dumps({{'mib': peak_mib()}}))")  # .format(m=...) later


PEER = "peer: sentence-transformers + LR (mpnet)"
PEER_COLD = ("import sys, time, json; t = time.perf_counter(); sys.path.insert(0, 'bench'); import stance; "
             "from bench import peer; st, lr = peer(); "
             "lr.predict(st.encode(['The Security Council should authorise the mission.'])); "
             "print(json.dumps({'s': time.perf_counter() - t}))")
PEER_RSS = PEAK + ("import sys, json; sys.path.insert(0, 'bench'); from bench import peer; "
                   "from stance.corpus import texts_and_labels; st, lr = peer(); "
                   "lr.predict(st.encode((texts_and_labels('shipped')[0] * 2)[:1000], batch_size=64)); "
                   "print(json.dumps({'mib': peak_mib()}))")
CLI = [str(Path(sys.executable).parent / "stance"), "predict", "The Security Council should authorise the mission."]
REPEATS = 3  # throughput is the median of 3 runs: this 2-core VM's speed varies from minute to minute
ROWS = {"mpnet (fp32 torch)": ("mpnet", {"STANCE_RUNTIME": "torch"})}  # label -> (model, environment)


def peer() -> tuple:
    """The peer: sentence-transformers over the packaged mpnet weights and an LR fitted on 64 sentences."""
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    from stance.corpus import texts_and_labels
    from stance.models.encoders import encoder_path

    st = SentenceTransformer(str(encoder_path("mpnet")), device="cpu", local_files_only=True)
    texts, labels = texts_and_labels("shipped")
    return st, LogisticRegression(max_iter=1000).fit(st.encode(texts[:64], batch_size=64), labels[:64])


class _Peer:
    """The peer as a model for the throughput loop."""

    def __init__(self) -> None:
        self.st, self.lr = peer()

    def predict_proba(self, texts: list[str]):
        return self.lr.predict_proba(self.st.encode(texts, batch_size=64))


def cold_cli() -> float:
    subprocess.run(CLI, capture_output=True, env=ENV, cwd=ROOT, check=True)  # caches built
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(CLI, capture_output=True, env=ENV, cwd=ROOT, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def throughput(model_name: str, texts: list[str], env: dict | None = None) -> dict[str, Any]:
    from stance.models.registry import model_class
    from stance.models.store import model_path

    if model_name == PEER:
        model: Any = _Peer()
    else:  # loaded afresh (not from the per-process cache): the environment picks the runtime
        os.environ.update(env or {})
        model = model_class(model_name).load(model_path(model_name))
        for k in env or {}:
            os.environ.pop(k)
    model.predict_proba(texts[:8])  # warm-up
    big = (texts * 4)[:4096] if model_name == "tfidf" else texts[:640]
    batch1, batch64 = [], []
    for _ in range(REPEATS):  # interleaved, so a passing slowdown of the machine touches one run of each
        t = time.perf_counter()
        for s in texts[:200]:
            model.predict_proba([s])
        batch1.append(200 / (time.perf_counter() - t))
        t = time.perf_counter()
        for i in range(0, len(big), 64):
            model.predict_proba(big[i:i + 64])
        batch64.append(len(big) / (time.perf_counter() - t))
    return {"batch1": statistics.median(batch1), "batch64": statistics.median(batch64),
            "batch1_runs": batch1, "batch64_runs": batch64}


def stance_default() -> str:
    from stance.models.store import default_model_name

    return default_model_name()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", help="comma-separated registry names (default: every shipped model)")
    ap.add_argument("--finetune", help="also time fine-tuning this model on the whole training corpus")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    args = ap.parse_args()
    from stance.corpus import texts_and_labels

    texts, labels = texts_and_labels("shipped")
    res: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                            f"{platform.system()} {platform.release()}", "sentences": len(texts)}
    res["import_s"] = statistics.median(child(IMPORT)["s"] for _ in range(5))
    res["models"] = {}
    from stance.models.registry import SHIPPED_NAMES

    res["default_model"] = stance_default()
    res["cold_cli_default_s"] = cold_cli()
    print("cold CLI", res["cold_cli_default_s"], flush=True)
    names = args.models.split(",") if args.models else [*SHIPPED_NAMES, *ROWS, PEER]
    for label in names:
        m, env = ROWS.get(label, (label, {}))
        if label == PEER:
            child(PEER_COLD)  # caches built
            row = {"cold_first_predict_s": statistics.median(child(PEER_COLD)["s"] for _ in range(3))}
            rss = child(PEER_RSS)["mib"]
        else:
            child(COLD.format(m=m), env)  # caches built (the joined mpnet, its int8 copy)
            row = {"cold_first_predict_s": statistics.median(child(COLD.format(m=m), env)["s"] for _ in range(3))}
            rss = child(RSS.format(m=m), env)["mib"]
        row.update(throughput(label if label == PEER else m, texts, env))
        row["peak_rss_mib"] = rss
        res["models"][label] = row
        print(label, row, flush=True)
    if args.finetune:
        from stance.models.registry import make_model

        t = time.perf_counter()
        make_model(args.finetune).fit(texts, labels)
        res["finetune_s"] = time.perf_counter() - t
        res["finetune_model"] = args.finetune
    lines = [f"Machine: {res['machine']}. Corpus sentences used: {res['sentences']}.", "",
             f"- `import stance`: {res['import_s'] * 1000:.0f} ms (median of 5)",
             f"- cold first CLI predict with the default model ({res['default_model']}): "
             f"{res['cold_cli_default_s']:.2f} s (median of 3)"]
    if "finetune_s" in res:
        lines.append(f"- fine-tuning {res['finetune_model']} on all {len(texts)} training sentences: {res['finetune_s']:.0f} s")
    lines += ["", "| model | cold first predict (s) | batch 1 (sent/s, median of 3) | batch 64 (sent/s, median of 3) "
              "| peak RSS, load + 1,000 predictions (MiB) |",
              "|---|---|---|---|---|"]
    for m, r in res["models"].items():
        lines.append(f"| {m} | {r['cold_first_predict_s']:.2f} | {r['batch1']:.0f} | {r['batch64']:.0f} | {r['peak_rss_mib']:.0f} |")
    table = "\n".join(lines)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(f"# Benchmark results\n\nGenerated by `python bench/bench.py` on {time.strftime('%Y-%m-%d')}.\n\n{table}\n")
    Path(args.out).with_suffix(".json").write_text(json.dumps(res, indent=1))
    print(table)


if __name__ == "__main__":
    main()
