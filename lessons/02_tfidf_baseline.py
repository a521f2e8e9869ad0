# %% [markdown]
# # Lesson 2: the TF-IDF baseline
#
# **Goal.** Train the inspectable baseline (TF-IDF n-grams + logistic regression), read the n-grams it
# relies on, read its mistakes on sentences it did not see, and write a sentence that fools it.
#
# **Time.** About 15 minutes. Training takes a few seconds.

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

# %% [markdown]
# ## 1. Train on 80%, keep 20% aside
#
# We hold out a stratified 20% of the shipped training corpus (seeds + supplement). `search=False`
# skips the grid search over n-gram range and C (the shipped model does it; it is slower).

# %%
from sklearn.model_selection import train_test_split

from stance.models.tfidf import TfidfStance
from stance.corpus import texts_and_labels
from stance.evaluation.metrics import label_scores
from stance.models.majority import MajorityStance

texts, labels = texts_and_labels(("seeds", "supplement"))
X_train, X_test, y_train, y_test = train_test_split(texts, labels, test_size=0.2, stratify=labels, random_state=0)
print(len(X_train), "training sentences,", len(X_test), "held out")

print("expected time: a few seconds on a 2-core laptop")
start = time.perf_counter()
model = TfidfStance(search=False).fit(X_train, y_train)
print(f"trained in {time.perf_counter() - start:.1f} s")

pred = model.predict(X_test)
scores = label_scores(y_test, pred)
floor = label_scores(y_test, MajorityStance().fit(X_train, y_train).predict(X_test))
print(f"macro-F1 {scores['macro_f1']:.3f}, accuracy {scores['accuracy']:.3f}")
print(f"(always predicting the most frequent label: macro-F1 {floor['macro_f1']:.3f}, accuracy {floor['accuracy']:.3f})")

# %% [markdown]
# ## 2. What did it learn?
#
# Each label has one weight per n-gram. The largest weights are the n-grams that push a sentence
# towards that label.

# %%
import pandas as pd

top = model.top_features(k=12)
pd.DataFrame({label: [f"{ngram} ({w:.1f})" for ngram, w in feats] for label, feats in top.items()})

# %% [markdown]
# **Look:** which of these n-grams express a *stance* ("should", "alone", "mandate"), and which only
# name a *topic* or an actor ("nato", "security council")? A model that leans on topic words will
# label a neutral report about NATO as `pro-NATO`.

# %% [markdown]
# ## 3. Its mistakes on the held-out sentences
#
# The most confident mistakes first. For each, `stance.explain` lists the n-grams of the sentence
# that weigh most for the predicted label (for TF-IDF: the n-gram's weight times its TF-IDF value;
# positive pushes toward the label, negative against).

# %%
import numpy as np
import textwrap

import stance
from stance import LABELS


def why(text, k=4):
    """The k strongest pieces of evidence for the model's label, as 'n-gram +weight'."""
    e = stance.explain(text, model, top_k=k)
    return ", ".join(f"{ev.token} {ev.weight:+.2f}" for ev in e.evidence)


proba = model.predict_proba(X_test)
errors = [(float(p.max()), t, g, LABELS[int(p.argmax())]) for p, t, g in zip(proba, X_test, y_test) if LABELS[int(p.argmax())] != g]
errors.sort(reverse=True)
print(len(errors), "mistakes out of", len(X_test), "\n")
for conf, text, gold, guess in errors[:8]:
    print(f"true {gold:10s} predicted {guess:10s} ({conf:.2f})  evidence: {why(text)}")
    print(textwrap.fill(text, 100, initial_indent="  > ", subsequent_indent="  > "))

# %%
pd.crosstab(pd.Series(y_test, name="true"), pd.Series(pred, name="predicted")).reindex(index=list(LABELS), columns=list(LABELS), fill_value=0)

# %% [markdown]
# ## 4. The challenge set
#
# `corpus/challenge.jsonl` holds minimal pairs (two sentences that differ in a word or two and have
# different labels) and other hard cases. No model is ever trained on it. How does the baseline do,
# per phenomenon?

# %%
from collections import defaultdict

from stance.corpus import load_records

challenge = load_records("challenge")
hits = defaultdict(list)
for r, p in zip(challenge, model.predict([r["text"] for r in challenge])):
    hits[r["phenomenon"]].append(p == r["label"])
print(f"challenge accuracy {np.mean([h for v in hits.values() for h in v]):.2f} on {len(challenge)} sentences")
pd.Series({k: np.mean(v) for k, v in hits.items()}, name="accuracy").sort_values().round(2).to_frame()

# %% [markdown]
# ## 5. Exercise: fool the baseline
#
# Write a sentence whose correct label (by the codebook) differs from what the model predicts.
# Ideas: a neutral report that names NATO or the UN, a negation ("should *not*"), sarcasm, a
# criticism of going alone. Set `MY_SENTENCE` and `MY_LABEL` (the correct label), then run the check.

# %% tags=["exercise"]
MY_SENTENCE = "Write your sentence here."
MY_LABEL = "none"   # the label the codebook gives it

# %%
from stance.labels import check_label

check_label(MY_LABEL)
explanation = stance.explain(MY_SENTENCE, model)
guess = explanation.label
print(f"you say {MY_LABEL}, the model says {guess}: {'fooled!' if guess != MY_LABEL else 'not fooled, try again'}")
display(explanation)   # in Jupyter: the sentence, highlighted; print(explanation.to_text()) in a terminal
print(explanation.to_text())

# %% [markdown]
# ## Questions for discussion
#
# 1. Which kinds of sentences fool it most easily? What does that say about what it learned?
# 2. Would adding your sentence to the training data fix that kind of mistake, or only that sentence?
#    (Lesson 5 tries it.)
