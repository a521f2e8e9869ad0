# %% [markdown]
# # Lesson 1: the corpus and the codebook
#
# **Goal.** Know what the data is: which sentences, which five labels, how they were decided.
# Then label fifteen sentences yourself and measure how far you agree with the corpus.
#
# **Time.** About 15 minutes. Everything here runs in seconds.
#
# The labels answer one question per sentence: *does it take a position on whether an
# international problem should be handled together with international institutions and partners,
# or without them?* `pro-UN`, `pro-NATO` (allies, coalitions, regional bodies), `unilateral`,
# `skeptical`, `none`.

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
# ## 1. Load the corpus
#
# `stance.corpus.load` gives a Hugging Face `datasets.Dataset`. The `seeds` part holds every sentence
# of four opinion and news articles, each labelled by two annotators and adjudicated.

# %%
import stance
from stance.corpus import load, load_records

seeds = load("seeds")
# the fifteen sentences of the exercise in section 5
EXERCISE_IDS = ["001-036", "000-012", "001-100", "000-041", "003-025", "001-002", "000-028", "001-023",
                "001-055", "001-135", "001-120", "003-000", "000-032", "001-102", "001-033"]
LABEL_NAMES = seeds.features["label"].names
print(seeds)
print("labels:", LABEL_NAMES)

df = seeds.to_pandas()
df["label"] = df["label"].map(lambda i: LABEL_NAMES[i])
df[["id", "label", "text"]].head(8)

# %% [markdown]
# ## 2. The codebook's decision rules
#
# The labels follow `corpus/CODEBOOK.md`. Its decision rules are applied in order, and the first one
# that settles a case wins. Read them now; you need them for the exercise.

# %%
from stance.paths import shipped

codebook = shipped("corpus") / "CODEBOOK.md"
if codebook.exists():
    text = codebook.read_text(encoding="utf-8")
    start = text.find("## Decision rules")
    end = text.find("\n## ", start + 1)
    display(Markdown(text[start:end] if start >= 0 else text[:3000]))
else:
    print("corpus/CODEBOOK.md is not in this checkout; read the label definitions in the project README.")

# %% [markdown]
# ## 3. How the labels are distributed
#
# Three shipped parts: `seeds` (the four articles), `supplement` (sentences written for other crises,
# to balance the labels) and `challenge` (minimal pairs and hard cases, only ever used for testing).

# %%
from collections import Counter

from stance.evaluation import plots

counts = {part: dict(Counter(r["label"] for r in load_records(part))) for part in ("seeds", "supplement", "challenge")}
for part, c in counts.items():
    print(f"{part:10s}", sum(c.values()), "sentences:", {l: c.get(l, 0) for l in LABEL_NAMES})
display(Image(plots.label_distribution(counts, FIGS / "labels.png")))

# %% [markdown]
# **Look:** which label is rare in the seeds? Why does a classifier trained on the seeds alone
# have a hard time with it, and what did the supplement do about it?

# %% [markdown]
# ## 4. Where the annotators disagreed
#
# Each seed sentence was labelled twice, independently (`annotator_a`, `annotator_b`). Where they
# disagreed, an adjudicator decided and wrote down why in a `note`. These notes are the best
# explanation of the codebook there is.

# %%
import textwrap

disputed = [r for r in load_records("seeds") if r.get("note")]
print(len(disputed), "adjudicated disagreements among", len(load_records("seeds")), "seed sentences\n")
in_exercise = set(EXERCISE_IDS)  # keep the exercise's sentences for later
for r in [r for r in disputed if r["id"] not in in_exercise][:4]:
    print(f"{r['id']}: A said {r['annotator_a']}, B said {r['annotator_b']} -> final {r['label']}")
    print(textwrap.fill(r["text"], 100, initial_indent="  > ", subsequent_indent="  > "))
    print(textwrap.fill("note: " + r["note"], 100, initial_indent="    ", subsequent_indent="    "))
    print()

# %% [markdown]
# ## 5. Exercise: label fifteen sentences yourself
#
# Below are fifteen seed sentences, without their labels. Label each one with the codebook's rules,
# **before** you look at the corpus's answer (the codebook calls this "working blind").
# Replace each `"none"` placeholder in `MY_LABELS` with your label. Then run the next cell.
#
# Annotators label a sentence *in its article*, not on its own. Some of these sentences point back
# ("that trouble", "his calls", "by contrast") and cannot be labelled without the sentence before
# them. For those, the neighbouring sentences of the same article are printed in square brackets
# above (and sometimes below) the sentence. Label only the sentence with the id; the context is
# there to tell you what it refers to.

# %%
by_id = {r["id"]: r for r in load_records("seeds")}
by_position = {(r["source"], r["index"]): r for r in by_id.values()}  # article and sentence number -> record

# Sentences whose label depends on their neighbours: how many sentences to show (before, after).
CONTEXT = {"000-012": (1, 0), "001-100": (1, 0), "000-041": (1, 0), "003-025": (1, 0), "001-002": (1, 0),
           "001-023": (1, 1), "001-135": (1, 0), "001-102": (1, 0), "001-033": (1, 0)}


def neighbours(i, offsets):
    """The records of the same article at the given distances from sentence i (missing ones left out)."""
    r = by_id[i]
    return [by_position[key] for key in ((r["source"], r["index"] + d) for d in offsets) if key in by_position]


def show_context(records, where):
    for n in records:
        print(textwrap.fill(f"[{where}: {n['text']}]", 100, initial_indent="         ", subsequent_indent="          "))


for i in EXERCISE_IDS:
    before, after = CONTEXT.get(i, (0, 0))
    show_context(neighbours(i, range(-before, 0)), "before")
    print(textwrap.fill(f"{i}: {by_id[i]['text']}", 100, subsequent_indent="         "))
    show_context(neighbours(i, range(1, after + 1)), "after")
    print()

# %% tags=["exercise"]
# Your labels: one of pro-UN, pro-NATO, unilateral, skeptical, none
MY_LABELS = {
    "001-036": "none",
    "000-012": "none",
    "001-100": "none",
    "000-041": "none",
    "003-025": "none",
    "001-002": "none",
    "000-028": "none",
    "001-023": "none",
    "001-055": "none",
    "001-135": "none",
    "001-120": "none",
    "003-000": "none",
    "000-032": "none",
    "001-102": "none",
    "001-033": "none",
}

# %% [markdown]
# ## 6. How well do you agree with the corpus?
#
# Cohen's kappa corrects raw agreement for the agreement two annotators would reach by chance
# (1 = perfect, 0 = chance level). The corpus's own two annotators reached the kappa shown in
# `corpus/README.md`; compare yours with it.

# %%
from stance.corpus_card import agreement
from stance.labels import check_label

for i, label in MY_LABELS.items():
    check_label(label)  # a typo in a label stops here, with the allowed labels named
mine = [MY_LABELS[i] for i in EXERCISE_IDS]
gold = [by_id[i]["label"] for i in EXERCISE_IDS]
a = agreement(mine, gold)
print(f"raw agreement {a['observed']:.2f}, Cohen's kappa {a['kappa']:.2f} on {a['n']} sentences\n")

for i, m, g in zip(EXERCISE_IDS, mine, gold):
    if m != g:
        r = by_id[i]
        print(f"{i}: you {m}, corpus {g}")
        print(textwrap.fill(r["text"], 100, initial_indent="  > ", subsequent_indent="  > "))
        print(textwrap.fill("why: " + (r.get("note") or r["rationale"]), 100, initial_indent="    ", subsequent_indent="    "))
        print()

# %% [markdown]
# ## Questions for discussion
#
# 1. For each difference: which rule (1 to 6) settles it? Do you accept the corpus's answer?
# 2. With the "none" placeholders left in, kappa is about 0 even though some answers are right.
#    Why?
# 3. Which label do you find hardest to tell apart from which other one?
