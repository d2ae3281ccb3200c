"""The wheel carries the configs: install it into a scratch venv and compose a run config there."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_conf_folder_is_a_declared_package():
    """A conf folder left out of pyproject's packages makes setuptools warn at every install."""
    tomllib = pytest.importorskip("tomllib")
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"ptune.conf": "conf"}
    folders = {".".join(("ptune.conf",) + path.relative_to(ROOT / "conf").parts)
               for path in (ROOT / "conf").rglob("*") if path.is_dir()}
    declared = {name for name in setuptools["packages"] if name.startswith("ptune.conf.")}
    assert folders == declared


@pytest.mark.slow
def test_installed_wheel_composes_a_run_config(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist"), str(ROOT)], check=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("ptune-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    scratch_site = next(venv.glob("lib/python*/site-packages"))
    # the scratch venv sees the dependencies (not the editable ptune) through a plain path line
    (scratch_site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(scratch_site),
                    str(wheel)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HF_HUB_OFFLINE": "1"}
    python = venv / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import ptune.config.compose as c; print(c.config_dir())"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    assert where.stdout.strip().startswith(str(scratch_site)), where.stdout
    job = subprocess.run([str(python), "-m", "ptune.cli", "run", "--cfg", "job", "method=prefix", "task=copa"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert job.returncode == 0, job.stderr
    assert "name: prefix" in job.stdout and "local_name: COPA" in job.stdout
