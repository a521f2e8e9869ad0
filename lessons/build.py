"""Build the lesson notebooks from their sources, the jupytext percent-format files beside them.

    python lessons/build.py           # lessons/0N_*.py -> 0N_*.ipynb, lessons/solutions/0N_*.py -> solutions/0N_*.ipynb
    python lessons/build.py --check   # exit 1 if a committed notebook differs from its source (changes nothing)

Edit the .py files, never the .ipynb. lessons/0N_name.py is the exercise version; solutions/0N_name.py is the same
file with the exercise cells (`# %% tags=["exercise"]`) filled in (`# %% tags=["solution"]`). Notebooks are written
without outputs and with stable cell ids ("01-00", "01-01", ...), so `git diff` shows only what changed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
METADATA = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}}


def sources(root: Path = HERE) -> list[Path]:
    return sorted(root.glob("[0-9][0-9]_*.py")) + sorted((root / "solutions").glob("[0-9][0-9]_*.py"))


def notebook(source: Path) -> str:
    """The notebook built from one source file, as the text of its .ipynb."""
    nb = jupytext.read(source, fmt="py:percent")
    nb.metadata = METADATA
    for i, cell in enumerate(nb.cells):
        cell.id = f"{source.stem[:2]}-{i:02d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def same_outside_exercises(exercise: Path, solution: Path) -> bool:
    """Whether the solution is the exercise file with each exercise cell replaced by a solution cell."""
    if not solution.exists():
        return False
    ex, sol = (jupytext.read(p, fmt="py:percent").cells for p in (exercise, solution))
    return len(ex) == len(sol) and all(
        "solution" in b.metadata.get("tags", []) if "exercise" in a.metadata.get("tags", [])
        else (a.cell_type, a.source) == (b.cell_type, b.source) for a, b in zip(ex, sol))


def build(root: Path = HERE, check: bool = False) -> list[str]:
    """Write every notebook (with check=True, only compare them); return the problems found."""
    problems = []
    for source in sources(root):
        target, text = source.with_suffix(".ipynb"), notebook(source)
        if check and (not target.exists() or target.read_text(encoding="utf-8") != text):
            problems.append(f"{target.relative_to(root)} differs from {source.relative_to(root)}: run python lessons/build.py")
        elif not check:
            target.write_text(text, encoding="utf-8")
        if source.parent == root and not same_outside_exercises(source, root / "solutions" / source.name):
            problems.append(f"solutions/{source.name} is not {source.name} with its exercise cells filled in")
    notebooks = sorted(root.glob("[0-9][0-9]_*.ipynb")) + sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))
    return problems + [f"{p.relative_to(root)} has no source .py" for p in notebooks if not p.with_suffix(".py").exists()]


if __name__ == "__main__":
    check = "--check" in sys.argv[1:]
    problems = build(check=check)
    print("\n".join(problems) or ("notebooks match their sources" if check else "notebooks rebuilt"))
    sys.exit(1 if problems else 0)
