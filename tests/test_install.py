"""The library works when pip-installed from a wheel, not only from a checkout."""

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import json, sys
import stance
from stance.corpus import SHIPPED_PARTS, load
from stance.models import SHIPPED_NAMES
from stance.paths import shipped
assert "site-packages" in stance.__file__, stance.__file__
out = {"models": {}, "parts": {}}
for name in SHIPPED_NAMES:
    if (shipped("models") / name).is_dir():
        out["models"][name] = stance.predict("The Security Council should authorise the mission.", model=name).label
for part in SHIPPED_PARTS:
    out["parts"][part] = len(load(part))
out["default"] = stance.predict("NATO should lead.").model
print(json.dumps(out))
"""


@pytest.mark.slow
def test_wheel_installs_and_predicts_from_another_directory(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(wheels)],
                   check=True, capture_output=True)
    wheel = next(wheels.glob("stance-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Dependencies (torch, transformers, the encoder packages) come from the test's own environment, by path;
    # stance itself only from the wheel.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "STANCE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
    res = subprocess.run([str(py), "-c", CHECK], cwd=elsewhere, capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["models"] and all(label in ("pro-UN", "pro-NATO", "unilateral", "skeptical", "none")
                                 for label in out["models"].values())
    assert out["parts"]["seeds"] > 250 and out["parts"]["outside"] >= 400 and out["parts"]["writers"] >= 2000
    assert not any((tmp_path / "venv").rglob("*.sqlite")), "nothing may be written into the install"
