"""Result tables: built from the manifest, and the README/docs copies are up to date."""

import subprocess
import sys

import pytest

from conftest import REPO, clean_env
from zoo.results import BEGIN, END, replace_block, results_markdown


def _entry(name, params, metrics, **source):
    return {"model": name, "num_params": params + 100, "num_trainable_params": params, "license": "MIT",
            "source": {"kind": "zoo-trained", **source},
            "metrics": [{"dataset": d, "values": v} for d, v in metrics.items()]}


MANIFEST = {
    "a_sr_x4.t": _entry("a_sr_x4.t", 1234, {"set5-x4": {"psnr_y": 31.2345, "ssim_y": 0.88},
                                             "set14-x4": {"psnr_y": 27.9, "ssim_y": 0.76}},
                        warm_start={"from": "b.t", "sha256": "0" * 64}),
    "dn.t": _entry("dn.t", 99, {"set12-s25": {"psnr": 30.5}, "set12-s15": {"psnr": 33.0}}),
    "cls.t": _entry("cls.t", 7, {"mnist-test": {"top1_accuracy": 0.99123}}),
}


def test_tables_carry_the_manifest_numbers_and_the_baselines():
    md = results_markdown(MANIFEST, {"set5-x4": {"psnr_y": 28.4305, "ssim_y": 0.8113}, "set12-s25": {"psnr": 20.3}})
    assert "| x4 | `a_sr_x4.t` | 1,234 | 31.23 | 0.8800 | 27.90 | 0.7600 | trained here, from b.t |" in md
    assert "| x4 | bicubic (floor) | 0 | 28.43 | 0.8113 | — | — |" in md
    assert "| `dn.t` | 99 | 33.00 | 30.50 | trained here |" in md  # sigmas sorted: 15, 25
    assert "| noisy input (floor) | 0 | — | 20.30 |" in md
    assert "| DnCNN-S, published | 556,096 | 32.86 | 30.44 |" in md
    assert "| `cls.t` | 7 | mnist-test | 0.9912 | trained here |" in md
    assert md.count("| trainable params |") == 3  # papers count what trains (DnCNN-S's 556,096)


def test_replace_block_keeps_the_rest_and_needs_the_markers():
    text = f"intro\n{BEGIN}\nold\n{END}\noutro\n"
    assert replace_block(text, "new") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    with pytest.raises(ValueError, match="results:begin"):
        replace_block("no markers", "new")


def test_readme_and_docs_tables_match_the_manifest():
    r = subprocess.run([sys.executable, str(REPO / "tools/results_table.py"), "--check"], env=clean_env(),
                       capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
