# %% [markdown]
# # Lesson 2: the TF-IDF baseline
#
# **Goal.** Build TF-IDF by hand, then train the inspectable baseline (TF-IDF n-grams + logistic
# regression), read the n-grams it relies on, read its mistakes on sentences it did not see, and
# write a sentence that fools it.
#
# **Time.** About 15 minutes. Training takes a few seconds; the grid search about 10 s.

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
# ## 0. TF-IDF by hand, on four sentences
#
# Before the project's class, build the pipeline from scikit-learn's parts, as its "Working with
# text data" tutorial does: count the words (`CountVectorizer`), weight them by how rare they are
# across sentences (`TfidfTransformer`), then fit a classifier on the weighted counts.

# %%
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

toy = ["The Security Council must authorise the mission.",
       "The alliance should lead the mission.",
       "We will act alone, without the Council.",
       "The mission begins on Monday."]
counts = CountVectorizer().fit(toy)
C = counts.transform(toy)  # a sparse matrix: one row per sentence, one column per word
print("vocabulary (word -> column):", dict(sorted(counts.vocabulary_.items(), key=lambda kv: kv[1])))
print(f"sparse matrix: {C.shape[0]} x {C.shape[1]}, {C.nnz} non-zero cells of {C.shape[0] * C.shape[1]}")
display(pd.DataFrame(C.toarray(), columns=counts.get_feature_names_out()))

tfidf_step = TfidfTransformer().fit(C)
print("idf weights: words in every sentence weigh least ('the'), words in one sentence most")
display(pd.Series(tfidf_step.idf_, index=counts.get_feature_names_out()).sort_values().round(2).to_frame("idf").T)
display(pd.DataFrame(tfidf_step.transform(C).toarray(), columns=counts.get_feature_names_out()).round(2))

# %% [markdown]
# The same three steps on the real corpus, as one `Pipeline`, with a small grid search over the
# n-gram range and the regularisation C (cross-validated inside the training part only), and
# scikit-learn's `classification_report` on a held-out 20%.

# %%
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from stance.corpus import texts_and_labels

texts, labels = texts_and_labels(("seeds", "supplement"))
X_train, X_test, y_train, y_test = train_test_split(texts, labels, test_size=0.2, stratify=labels, random_state=0)
pipe = Pipeline([("counts", CountVectorizer(lowercase=True)), ("tfidf", TfidfTransformer(sublinear_tf=True)),
                 ("clf", LogisticRegression(max_iter=2000, class_weight="balanced"))])
grid = {"counts__ngram_range": [(1, 1), (1, 2)], "clf__C": [1.0, 10.0] if not FAST else [1.0]}
print(f"expected time: about {4 * len(grid['clf__C'])} s ({2 * len(grid['clf__C'])} settings x 3 folds)")
search = GridSearchCV(pipe, grid, cv=3, scoring="f1_macro").fit(X_train, y_train)
print("best settings:", search.best_params_, f"(cross-validated macro-F1 {search.best_score_:.3f})")
print(classification_report(y_test, search.predict(X_test), digits=3, zero_division=0))
print("vocabulary size:", len(search.best_estimator_.named_steps["counts"].vocabulary_))

# %% [markdown]
# `stance.models.tfidf.TfidfStance`, used below, is this pipeline with the project's settings, saved
# with skops and wrapped in the library's model contract (labels in a fixed order, `predict_proba`).

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

# %% tags=["solution"]
# Try several ideas at once and keep one that works.
candidates = [
    ("The United Nations building in New York was repainted last spring.", "none"),  # topic words, no stance
    ("The minister said the country will not send its own troops without a UN mandate.", "pro-UN"),  # conditional
    ("Nobody should expect the UN to fix this.", "skeptical"),  # doubt, phrased with a UN word
    ("We should not wait for the Security Council; our own marines can secure the port by Friday.", "unilateral"),
]
for sentence, gold in candidates:
    guess = model.predict([sentence])[0]
    print(f"{'FOOLED' if guess != gold else 'right ':6s} true {gold:10s} predicted {guess:10s} {sentence}")
fooled = [(s, g) for s, g in candidates if model.predict([s])[0] != g]
MY_SENTENCE, MY_LABEL = fooled[0] if fooled else candidates[0]

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
