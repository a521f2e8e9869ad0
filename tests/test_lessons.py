"""Every lesson notebook, exercise and solution, runs top to bottom without an error.

Runs with the lessons' fast settings (STANCE_LESSON_FAST=1), offline, in a private
$STANCE_HOME, each kernel in a temporary working directory. Prints how long each
notebook took (see it with `pytest -s -m slow tests/test_lessons.py`); the whole
fast run is meant to stay well under five minutes on a 2-core laptop.
"""

from __future__ import annotations

import os
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


def test_every_lesson_has_a_solution():
    exercises = {p.name for p in LESSONS.glob("[0-9][0-9]_*.ipynb")}
    solutions = {p.name for p in (LESSONS / "solutions").glob("[0-9][0-9]_*.ipynb")}
    assert len(exercises) == 5 and exercises == solutions


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

    nb = nbformat.read(path, as_version=4)
    # Check that the kernel is this interpreter (the venv's ipykernel), not some other "python3".
    nb.cells.append(nbformat.v4.new_code_cell(
        f"import sys, stance\nassert sys.prefix == {sys.prefix!r}, sys.prefix\n"
        f"assert stance.__file__.startswith({str(ROOT)!r}), stance.__file__"))
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:
        pytest.fail(f"{_name(path)} failed after {time.perf_counter() - start:.1f} s:\n{e}")
    seconds = time.perf_counter() - start
    TIMINGS[_name(path)] = seconds
    print(f"{_name(path)}: {seconds:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{_name(path)}: {errors[0]['ename']}: {errors[0]['evalue']}"
