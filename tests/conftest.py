import os
import tempfile

# Every write of the suite goes to a private data home, never the user's or the checkout.
os.environ.setdefault("STANCE_HOME", tempfile.mkdtemp(prefix="stance-test-home-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private $STANCE_HOME: user corpus and retrained models go there, never into the repo."""
    monkeypatch.setenv("STANCE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def tiny_data():
    """A small, label-balanced sample of the shipped corpus: fast to train on."""
    from stance.corpus import load_records
    from stance.evaluation.protocols import sample as _sample

    records = _sample(load_records(("seeds", "supplement")), 100, seed=0)
    return [r["text"] for r in records], [r["label"] for r in records]


@pytest.fixture(scope="session")
def tiny_transformer(tiny_data, tmp_path_factory):
    """(fitted MiniLMStance, its saved directory): trained once per session, ~10 s; quality is not the point."""
    from stance.models.finetuned import FineTunedStance

    texts, labels = tiny_data
    model = FineTunedStance(encoder="minilm", epochs=1, max_length=32).fit(texts[:40], labels[:40])
    return model, model.save(tmp_path_factory.mktemp("tiny-transformer") / "minilm")
