"""tools/benchmark.py end to end on LeNet-5 (small and fast): the table, its files and its columns."""

import json
import subprocess
import sys

from conftest import REPO, SHARED, clean_env, shared_path


def test_benchmark_writes_table_json_and_chart_for_a_tagged_name(tmp_path):
    shared_path("mnist")
    out = tmp_path / "bench_lenet5.mnist"  # the dot must not be taken for a file suffix
    r = subprocess.run([sys.executable, str(REPO / "tools/benchmark.py"), "lenet5.mnist", "--threads", "1",
                        "--warmup", "1", "--repeats", "3", "--modes", "keras-fp32", "tflite-int8", "tflite-int8-u8io", "--out", str(out)],
                       env=clean_env(ZOO_DATA_DIR=SHARED), capture_output=True, text=True, timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads((tmp_path / "bench_lenet5.mnist.json").read_text())
    assert [row["runtime"] for row in rows] == ["keras-fp32", "tflite-int8", "tflite-int8-u8io"]
    assert all(row["median_ms"] > 0 and row["params"] == 61706 for row in rows)
    assert all(row["cpu"] and row["cpu"] == rows[0]["cpu"] for row in rows)  # int8 speed depends on the CPU's ISA
    assert all(isinstance(row["tf_onednn"], bool) for row in rows)  # so does the Keras baseline's
    assert 0.95 < rows[0]["quality"] <= 1 and all(abs(r["quality"] - rows[0]["quality"]) < 0.01 for r in rows)
    table = (tmp_path / "bench_lenet5.mnist.md").read_text()
    assert "| tflite-int8 | 1 |" in table and "- int8 on 1 thread(s):" in table
    assert "- int8 with uint8 pixel I/O on 1 thread(s):" in table and "`lenet5.mnist`" in table and f"CPU: {rows[0]['cpu']}" in table
    assert f"oneDNN kernels (Keras rows and roof): {'on' if rows[0]['tf_onednn'] else 'off'}." in table
    assert (tmp_path / "bench_lenet5.mnist.png").stat().st_size > 1000
