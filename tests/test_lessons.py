"""Every lesson notebook, exercise and solution, runs top to bottom without an error.

The notebooks are built from the jupytext sources lessons/0N_*.py and lessons/solutions/0N_*.py by
lessons/build.py; the committed notebooks must match their sources. Lesson 5's exercise, with its
placeholder labels left in, must refuse to add or retrain anything.

Runs with the lessons' fast settings (STANCE_LESSON_FAST=1), offline, in a private
$STANCE_HOME, each kernel in a temporary working directory. Prints how long each
notebook took (see it with `pytest -s -m slow tests/test_lessons.py`); the whole
fast run is meant to stay well under five minutes on a 2-core laptop.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb")) + sorted((LESSONS / "solutions").glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT = 600
TIMINGS: dict[str, float] = {}


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}" if path.parent.name == "solutions" else path.stem


@pytest.fixture(scope="module", autouse=True)
def report_timings():
    yield
    if TIMINGS:
        lines = [f"  {seconds:6.1f} s  {name}" for name, seconds in TIMINGS.items()]
        print("\nlesson execution times (STANCE_LESSON_FAST=1):\n" + "\n".join(lines)
              + f"\n  {sum(TIMINGS.values()):6.1f} s  total")


def _builder():
    """lessons/build.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("lessons_build", LESSONS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _execute(nb, tmp_path, monkeypatch):
    """Run a notebook in place with the fast settings, offline, in a private $STANCE_HOME and working directory."""
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("STANCE_LESSON_FAST", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("STANCE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The kernel imports this checkout (as the tests do), whatever its working directory.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()


def _text(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_every_lesson_has_a_solution():
    exercises = {p.name for p in LESSONS.glob("[0-9][0-9]_*.ipynb")}
    solutions = {p.name for p in (LESSONS / "solutions").glob("[0-9][0-9]_*.ipynb")}
    assert len(exercises) == 5 and exercises == solutions
    sources = {p.with_suffix(".ipynb").name for p in LESSONS.glob("[0-9][0-9]_*.py")}
    assert sources == exercises and sources == {p.with_suffix(".ipynb").name for p in (LESSONS / "solutions").glob("[0-9][0-9]_*.py")}


def test_notebooks_match_their_sources():
    pytest.importorskip("jupytext")
    problems = _builder().build(check=True)
    assert not problems, "\n".join(problems)


def test_check_finds_a_notebook_that_drifted(tmp_path):
    pytest.importorskip("jupytext")
    copy = tmp_path / "lessons"
    shutil.copytree(LESSONS, copy, ignore=shutil.ignore_patterns("*.ipynb_checkpoints", "__pycache__"))
    builder = _builder()
    assert builder.build(copy, check=True) == []
    source = copy / "02_tfidf_baseline.py"
    source.write_text(source.read_text(encoding="utf-8").replace("# Lesson 2:", "# Lesson two:"), encoding="utf-8")
    problems = builder.build(copy, check=True)
    # The notebook drifted from its source, and the exercise no longer matches its solution outside the exercise cells.
    assert any("02_tfidf_baseline.ipynb differs" in p for p in problems), problems
    assert any("solutions/02_tfidf_baseline.py is not" in p for p in problems), problems
    builder.build(copy)  # rebuilding fixes the drift, not the mismatch between the two sources
    assert builder.build(copy, check=True) == [p for p in problems if "differs" not in p]


def test_notebooks_are_committed_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path} has outputs: run lessons/build.py"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_lesson_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

    nb = nbformat.read(path, as_version=4)
    # Check that the kernel is this interpreter (the venv's ipykernel), not some other "python3".
    nb.cells.append(nbformat.v4.new_code_cell(
        f"import sys, stance\nassert sys.prefix == {sys.prefix!r}, sys.prefix\n"
        f"assert stance.__file__.startswith({str(ROOT)!r}), stance.__file__"))
    start = time.perf_counter()
    try:
        _execute(nb, tmp_path, monkeypatch)
    except nbclient.exceptions.CellExecutionError as e:
        pytest.fail(f"{_name(path)} failed after {time.perf_counter() - start:.1f} s:\n{e}")
    seconds = time.perf_counter() - start
    TIMINGS[_name(path)] = seconds
    print(f"{_name(path)}: {seconds:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{_name(path)}: {errors[0]['ename']}: {errors[0]['evalue']}"


@pytest.mark.slow
@pytest.mark.parametrize("filled", [{}, {0: "none", 1: "pro-UN", 4: "unilateral"}], ids=["untouched", "partly-filled"])
def test_lesson_5_refuses_placeholder_labels(filled, tmp_path, monkeypatch):
    """The exercise's placeholders, all or some of them left in: a refusal naming them, nothing added or retrained."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(LESSONS / "05_your_own_data.ipynb", as_version=4)
    [cell] = [c for c in nb.cells if "exercise" in c.metadata.get("tags", [])]
    for i, label in filled.items():
        assert f'    {i}: "???",' in cell.source
        cell.source = cell.source.replace(f'    {i}: "???",', f'    {i}: "{label}",')
    # Before the last cell (which deletes the temporary $STANCE_HOME): nothing was written to the user corpus.
    nb.cells.insert(len(nb.cells) - 1, nbformat.v4.new_code_cell(
        "from stance.corpus import part_path\nprint('user corpus written:', part_path('user').exists())"))
    _execute(nb, tmp_path, monkeypatch)
    out = _text(nb)
    todo = [i for i in range(10) if i not in filled]
    which = "every sentence" if not filled else "sentences " + ", ".join(map(str, todo))
    assert f"REFUSED: the labels are still placeholders ('???') for {which}:" in out, out
    assert "sections 5 and 6 are skipped" in out and "retrained model saved" not in out and ", skipped " not in out
    assert out.count("skipped: the labels are still placeholders") == 3
    assert "user corpus written: False" in out


@pytest.mark.slow
def test_lesson_5_solution_adds_and_retrains(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(LESSONS / "solutions" / "05_your_own_data.ipynb", as_version=4)
    _execute(nb, tmp_path, monkeypatch)
    out = _text(nb)
    assert "all 10 sentences labelled" in out and "REFUSED" not in out and "skipped:" not in out
    assert "retrained model saved" in out and "challenge set accuracy: before" in out
