"""tools/denoise_compare.py: the comparison figure of issue #4, scored like the Set12 protocol."""

import json
import subprocess
import sys

from conftest import REPO, SHARED, clean_env, shared_path


def _run(*args):
    return subprocess.run([sys.executable, str(REPO / "tools/denoise_compare.py"), *args],
                          env=clean_env(ZOO_DATA_DIR=SHARED), capture_output=True, text=True, timeout=300, cwd=REPO)


def test_figure_and_numbers(tmp_path):
    shared_path("denoise_set12")
    out = tmp_path / "cmp.png"
    r = _run("--sigma", "25", "--models", "dncnn_s25", "--crop", "64", "--out", str(out))
    assert r.returncode == 0, r.stderr
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["psnr"]["dncnn_s25"] > record["psnr"]["noisy"] + 5
    assert out.stat().st_size > 5000 and not list(tmp_path.glob(".*tmp*"))


def test_bad_weights_argument_is_one_line(tmp_path):
    shared_path("denoise_set12")
    r = _run("--models", "--weights", "dncnn", "--crop", "32", "--out", str(tmp_path / "c.png"))
    assert r.returncode == 2 and "ARCH=FILE" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "c.png").exists()
