# %% [markdown]
# # Lesson 5: your own data
#
# **Goal.** Take a new article, let the model pick the sentences it is least sure about, label them,
# add them to a *user corpus*, retrain, and measure honestly what changed.
#
# **Time.** About 20 minutes.
#
# Your labels go to `$STANCE_HOME/corpus/user.jsonl`. The first cell points `STANCE_HOME` at a fresh
# temporary folder, so nothing in the repository is touched and the last cell throws it all away.

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

os.environ["STANCE_HOME"] = tempfile.mkdtemp(prefix="stance-lesson-home-")  # user corpus and models go here
print("STANCE_HOME =", os.environ["STANCE_HOME"])

# %% [markdown]
# ## 1. A new article
#
# A short report on a fictional crisis, written for this lesson. None of it is in the corpus.

# %%
ARTICLE_SENTENCES = [
    "Three weeks after the dam above Port Selora gave way, more than two hundred thousand people in the Velmoran lowlands are still sleeping in schools and stadiums.",
    "The Velmoran government, which refused outside help for the first ten days, asked the Security Council on Monday for a mandate to bring in foreign engineers and medics.",
    "Its neighbours in the Coastal Compact have offered two field hospitals and a naval transport, provided they can run them under their own joint command.",
    "Officials in the capital argue that a regional force would arrive sooner and know the terrain better than blue helmets gathered from across the world.",
    "The interior minister disagrees, insisting that Velmora's own army has the trucks and the soldiers to reopen the roads without anyone's permission.",
    "Aid workers who have spent years in the region doubt that any of these coalitions will hold together once the cameras leave.",
    "The last joint relief mission here, after the cyclone of 2009, fell apart in a quarrel over who would pay for the fuel.",
    "Meanwhile the river has begun to fall, and farmers on the higher ground have started to replant.",
    "If the World Food Programme's convoys are allowed through the northern pass, the worst of the hunger could be over within a month.",
    "Whatever the capital decides, the families in the stadiums say they will take help from whoever brings it first.",
]
ARTICLE = " ".join(ARTICLE_SENTENCES)
print(len(ARTICLE_SENTENCES), "sentences,", len(ARTICLE.split()), "words")

# %% [markdown]
# ## 2. The model before: TF-IDF on the shipped corpus
#
# `stance.analyze` splits a text into sentences and classifies each one.

# %%
import numpy as np
import textwrap

import stance
from stance import LABELS
from stance.models.tfidf import TfidfStance
from stance.corpus import texts_and_labels

shipped_texts, shipped_labels = texts_and_labels(("seeds", "supplement"))
print("expected time: a few seconds (one TF-IDF fit)")
before = TfidfStance(search=False).fit(shipped_texts, shipped_labels)
for i, s in enumerate(stance.analyze(ARTICLE, model=before)):
    print(f"[{i}] {s.label:10s} {s.confidence:.2f}  {textwrap.shorten(s.text, 90)}")

# %% [markdown]
# ## 3. Which sentences should you label?
#
# Labelling is the expensive part, so label where the model is least sure: the sentences with the
# smallest *margin* between its two most probable labels (margin sampling, a simple form of active
# learning). `stance.suggest.suggest` does that for a whole document (the command line:
# `stance suggest`).

# %%
from stance.suggest import suggest

N_PICK = 5
suggestions = suggest(ARTICLE, n=N_PICK, model=before)
picked = [ARTICLE_SENTENCES.index(r["text"]) for r in suggestions if r["text"] in ARTICLE_SENTENCES]
for r in suggestions:
    print(f"margin {r['margin']:.2f}, model says {r['guess']:10s} {textwrap.shorten(r['text'], 90)}")
print("\nsentence numbers:", picked)

# %% [markdown]
# ## 4. Exercise: label the sentences
#
# `MY_LABELS` maps each sentence number (the numbers of section 2) to a label. Replace every `"???"`
# with a label, using the codebook's rules from lesson 1. Label all ten: the picked sentences are
# added to the training data, and the others are the test in section 6 (sentences the retrained
# model has not seen).
#
# `"???"` is a placeholder, not a label. As long as any is left, the cell after this one refuses to
# go on: it names the sentences still to label, and sections 5 and 6 add nothing, retrain nothing and
# measure nothing. (A placeholder that looked like a label, such as `"none"`, would be added to your
# training data without anyone noticing.)

# %% tags=["exercise"]
# Replace every "???" with one of: pro-UN, pro-NATO, unilateral, skeptical, none
MY_LABELS = {
    0: "???",  # Three weeks after the dam above Port Selora gave way, more t...
    1: "???",  # The Velmoran government, which refused outside help for the ...
    2: "???",  # Its neighbours in the Coastal Compact have offered two field...
    3: "???",  # Officials in the capital argue that a regional force would a...
    4: "???",  # The interior minister disagrees, insisting that Velmora's ow...
    5: "???",  # Aid workers who have spent years in the region doubt that an...
    6: "???",  # The last joint relief mission here, after the cyclone of 200...
    7: "???",  # Meanwhile the river has begun to fall, and farmers on the hi...
    8: "???",  # If the World Food Programme's convoys are allowed through th...
    9: "???",  # Whatever the capital decides, the families in the stadiums s...
}

# %%
from collections import Counter

from stance.labels import check_label

PLACEHOLDER = "???"
todo = [i for i in range(len(ARTICLE_SENTENCES)) if MY_LABELS.get(i, PLACEHOLDER) in (PLACEHOLDER, None, "")]
for i, label in MY_LABELS.items():
    if i not in todo:
        check_label(label)  # a typo in a label stops here, with the allowed labels named
READY = not todo
if READY:
    print(f"all {len(ARTICLE_SENTENCES)} sentences labelled: {dict(Counter(MY_LABELS.values()))}")
else:
    which = "every sentence" if len(todo) == len(ARTICLE_SENTENCES) else f"sentences {', '.join(map(str, todo))}"
    print(f"REFUSED: the labels are still placeholders ({PLACEHOLDER!r}) for {which}:")
    for i in todo:
        print(f"  [{i}]{' (picked)' if i in picked else ''} {textwrap.shorten(ARTICLE_SENTENCES[i], 90)}")
    print("Nothing is added to your corpus and nothing is retrained: sections 5 and 6 are skipped.\n"
          "Label these sentences in MY_LABELS (section 4), then run that cell and the cells below again.")

# %% [markdown]
# ## 5. Add them to your user corpus and retrain
#
# `stance.corpus.add_examples` validates every example, skips duplicates of corpus sentences, and
# appends the rest to `$STANCE_HOME/corpus/user.jsonl` (the command line does the same with
# `stance add --file`). The model *after* is trained on exactly the sentences of the model *before*
# (seeds + supplement) plus your user corpus, so any difference comes from your sentences.

# %%
from stance.corpus import add_examples, part_path
from stance.paths import user_models_dir

if not READY:
    print("skipped: the labels are still placeholders (see section 4)")
else:
    report = add_examples([{"text": ARTICLE_SENTENCES[i], "label": MY_LABELS[i], "rationale": "lesson 5 exercise",
                            "source": "lesson 5: fictional flood in Velmora"} for i in picked])
    print(f"added {len(report.added)}, skipped {len(report.skipped)} -> {part_path('user')}")

    print("expected time: a few seconds (one TF-IDF fit)")
    user_texts, user_labels = texts_and_labels(("user",))
    after = TfidfStance(search=False).fit(shipped_texts + user_texts, shipped_labels + user_labels)
    after.save(user_models_dir() / "tfidf")     # into $STANCE_HOME/models: stance.predict(..., model="tfidf") now uses it
    print(f"{len(shipped_texts)} + {len(user_texts)} training sentences; retrained model saved to", user_models_dir() / "tfidf")
    print(stance.predict(ARTICLE_SENTENCES[picked[0]], model="tfidf"))

# %% [markdown]
# ## 6. What changed?
#
# Three measurements, from least to most honest:
#
# 1. the article's sentences: of course the labelled ones change, the model has seen them;
# 2. the article's *other* sentences, which the model has not seen;
# 3. the shipped corpus, same folds before and after (the user sentences only ever added to the
#    training side), and the challenge set.

# %%
if not READY:
    print("skipped: the labels are still placeholders (see section 4)")
else:
    b, a = before.predict(ARTICLE_SENTENCES), after.predict(ARTICLE_SENTENCES)
    gold = [MY_LABELS[i] for i in range(len(ARTICLE_SENTENCES))]
    for i, (x, y) in enumerate(zip(b, a)):
        flag = "labelled" if i in picked else "unseen  "
        print(f"[{i}] {flag} before {x:10s} after {y:10s} your label {gold[i]:10s} {'CHANGED' if x != y else ''}")
    unseen = [i for i in range(len(ARTICLE_SENTENCES)) if i not in picked]
    print(f"\nagreement with your labels on the {len(unseen)} unseen sentences: "
          f"before {sum(b[i] == gold[i] for i in unseen)}, after {sum(a[i] == gold[i] for i in unseen)}")

# %%
from sklearn.model_selection import StratifiedKFold

from stance.corpus import load_records
from stance.evaluation.metrics import label_scores

n_folds = 3 if FAST else 5
if not READY:
    print("skipped: the labels are still placeholders (see section 4)")
else:
    print(f"expected time: about {2 * n_folds} s ({2 * n_folds} TF-IDF fits)")
    f1_before, f1_after = [], []
    for tr, te in StratifiedKFold(n_folds, shuffle=True, random_state=0).split(shipped_texts, shipped_labels):
        tr_x, tr_y = [shipped_texts[i] for i in tr], [shipped_labels[i] for i in tr]
        te_x, te_y = [shipped_texts[i] for i in te], [shipped_labels[i] for i in te]
        f1_before.append(label_scores(te_y, TfidfStance(search=False).fit(tr_x, tr_y).predict(te_x))["macro_f1"])
        f1_after.append(label_scores(te_y, TfidfStance(search=False).fit(tr_x + user_texts, tr_y + user_labels).predict(te_x))["macro_f1"])
    print(f"shipped corpus, same {n_folds} folds: macro-F1 before {np.mean(f1_before):.4f}, after {np.mean(f1_after):.4f} "
          f"(per fold: {', '.join(f'{y - x:+.4f}' for x, y in zip(f1_before, f1_after))})")

    challenge = load_records("challenge")
    c_texts, c_gold = [r["text"] for r in challenge], [r["label"] for r in challenge]
    print(f"challenge set accuracy: before {np.mean(np.array(before.predict(c_texts)) == c_gold):.3f}, "
          f"after {np.mean(np.array(after.predict(c_texts)) == c_gold):.3f}")

# %% [markdown]
# ## Questions for discussion
#
# 1. Five sentences among more than 1,700: did the shipped-corpus score move? Should it have?
# 2. Which measurement would you report to someone deciding whether to label 500 more sentences
#    from articles like this one? What would you need that we do not have here (hint: a held-out
#    set of *such* articles)?
# 3. The command-line version of this lesson: `stance suggest` writes the sentences to label,
#    `stance add --file my.jsonl` adds them, and `stance train --model tfidf --compare` retrains and
#    prints the before/after comparison on folds of the shipped corpus.

# %%
import shutil

shutil.rmtree(os.environ["STANCE_HOME"], ignore_errors=True)   # throw the temporary user corpus away
print("removed", os.environ["STANCE_HOME"])
