# %% [markdown]
# # Lesson 4: why one split lies
#
# **Goal.** See how much one model's macro-F1 moves when only the random train/test split changes,
# then measure it properly: repeated k-fold with the corrected interval, and a learning curve.
# Everything uses TF-IDF, so it is fast.
#
# **Time.** About 15 minutes.

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
import numpy as np
from sklearn.model_selection import train_test_split

from stance.models.tfidf import TfidfStance
from stance.corpus import texts_and_labels
from stance.evaluation.metrics import interval, label_scores

texts, labels = texts_and_labels(("seeds", "supplement"))
N_SINGLE = 5 if FAST else 20        # how many different single splits
N_REPEATS = 2 if FAST else 5        # repeats of 5-fold cross-validation
print(len(texts), "sentences")

# %% [markdown]
# ## 1. The same model, different splits
#
# Each split holds out a different random 20%. Nothing else changes: same data, same model, same
# settings.

# %%
print(f"expected time: about {N_SINGLE} s (one TF-IDF fit of about a second per split)")
single = []
for seed in range(N_SINGLE):
    tr_x, te_x, tr_y, te_y = train_test_split(texts, labels, test_size=0.2, stratify=labels, random_state=seed)
    model = TfidfStance(search=False).fit(tr_x, tr_y)
    single.append(label_scores(te_y, model.predict(te_x))["macro_f1"])
    print(f"split {seed:2d}: macro-F1 {single[-1]:.3f}")
print(f"\nlowest {min(single):.3f}, highest {max(single):.3f}: a spread of {max(single) - min(single):.3f} from the split alone")

# %% [markdown]
# If a paper reports one split, which of these numbers did it get? If two models are compared on
# one split each, the difference may be nothing but the split.

# %% [markdown]
# ## 2. Repeated k-fold and an honest interval for the mean
#
# Repeated stratified 5-fold: every sentence is tested once per repeat, and each repeat shuffles
# differently. We report the **mean** of the fold scores and a 95% interval for that mean: the range
# in which the model's average macro-F1 (over all the splits we could have drawn) probably lies.
# That interval is *not* the range in which one split's score falls; single scores spread much more,
# as section 1 showed.
#
# The fold scores are not independent (their training sets overlap), so the textbook interval of
# the mean, mean ± t·std/√k, is too narrow. `stance.evaluation.metrics.interval` uses the corrected
# resampled t-test (Nadeau and Bengio, 2003), which widens it by replacing 1/k with 1/k + n_test/n_train.
#
# The loop below is what `stance.evaluation.protocols.cross_validate` does for any registered model;
# here it trains exactly the model of section 1 (TF-IDF without the grid search).

# %%
from sklearn.model_selection import RepeatedStratifiedKFold

print(f"expected time: about {5 * N_REPEATS} s ({5 * N_REPEATS} TF-IDF fits)")
folds = []  # one macro-F1 per fold
for tr, te in RepeatedStratifiedKFold(n_splits=5, n_repeats=N_REPEATS, random_state=0).split(texts, labels):
    model = TfidfStance(search=False).fit([texts[i] for i in tr], [labels[i] for i in tr])
    folds.append(label_scores([labels[i] for i in te], model.predict([texts[i] for i in te]))["macro_f1"])
corrected = interval(folds, test_fraction=1 / 5)
print(f"{len(folds)} fold scores (single scores), from {min(folds):.3f} to {max(folds):.3f}")
print(f"their mean {corrected['mean']:.3f}; corrected 95% interval of the mean {corrected['ci95'][0]:.3f} to {corrected['ci95'][1]:.3f}")

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 2.4))
ax.scatter(single, [1] * len(single), label="single 80/20 splits")
ax.scatter(folds, [0] * len(folds), label="folds of repeated 5-fold")
ax.axvspan(*corrected["ci95"], color="C1", alpha=0.15, label="corrected 95% interval\nof the mean")
ax.axvline(corrected["mean"], color="C1")
ax.set_yticks([0, 1], ["k-fold", "single"])
ax.set_xlabel("macro-F1")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
fig.tight_layout()
fig.savefig(FIGS / "spread.png", dpi=110)
plt.close(fig)
display(Image(FIGS / "spread.png"))

# %% [markdown]
# **Look:** the dots are single scores, one per split or fold; the shaded band is where their
# *average* probably lies. The band is narrower than the cloud of dots, and it should be: averaging
# many splits cancels much of the luck of any one of them. A single split's score outside the band
# is not a contradiction.

# %% [markdown]
# ## 3. Exercise: the naive interval
#
# Compute the naive 95% interval, mean ± t(0.975, k-1) · std / √k, over the same fold scores
# (`scipy.stats.t.ppf` gives t). How much narrower is it than the corrected one?
#
# Careful with what an interval is *for*. Both are intervals for the **mean** macro-F1 (what you
# would get on average over many splits), not ranges for a **single** split: single-split scores
# are expected to spread wider than an interval of the mean, and more of them fall outside the
# narrower one. The cell after the exercise counts them only to make that difference visible: the
# spread of single splits is the risk of reporting one split; the interval is how well we know
# the average.

# %% tags=["exercise"]
naive = None   # replace with (low, high)


# %%
def outside(lo_hi):
    return sum(not lo_hi[0] <= s <= lo_hi[1] for s in single)

lo, hi = corrected["ci95"]
print("95% intervals of the mean, and how many single-split scores fall outside them (single scores need not stay inside)")
print(f"corrected: {lo:.3f} to {hi:.3f} (width {hi - lo:.3f}), {outside((lo, hi))} of {len(single)} single splits outside")
if naive is not None:
    print(f"naive:     {naive[0]:.3f} to {naive[1]:.3f} (width {naive[1] - naive[0]:.3f}), "
          f"{outside(naive)} of {len(single)} single splits outside; corrected/naive width {(hi - lo) / (naive[1] - naive[0]):.1f}x")

# %% [markdown]
# ## 4. The learning curve: would more labelled data help?
#
# `stance.curve.learning_curve` trains on growing, nested, stratified subsets of each training fold
# and tests on the whole held-out fold (the command line: `stance curve`). If the curve is still
# climbing at the right edge, labelling more sentences is likely to pay off (lesson 5).

# %%
from stance.evaluation.curve import learning_curve

fractions = (0.1, 0.3, 1.0) if FAST else (0.1, 0.25, 0.5, 0.75, 1.0)
n_seeds, n_splits = (1, 3) if FAST else (2, 5)
n_fits = len(fractions) * n_seeds * n_splits
print(f"expected time: about {n_fits * 0.7:.0f} s ({n_fits} TF-IDF fits on growing subsets)")
report = learning_curve(models=("tfidf",), fractions=fractions, seeds=n_seeds, n_splits=n_splits,
                        out_dir=FIGS, overrides={"tfidf": {"search": False}}, log=lambda message: None)
for point in report["summary"]["tfidf"]:
    print(f"{point['n_train_mean']:5d} training sentences: macro-F1 {point['macro_f1_mean']:.3f} "
          f"(single runs from {point['macro_f1_min']:.3f} to {point['macro_f1_max']:.3f})")
display(Image(FIGS / "learning_curve.png"))

# %% [markdown]
# ## Questions for discussion
#
# 1. Two models differ by 0.02 macro-F1 on one split. What would you need before you believe it?
# 2. Where does the learning curve flatten? What does that suggest about labelling another 500
#    sentences of the same kind, versus labelling the kinds of sentences the model gets wrong?
