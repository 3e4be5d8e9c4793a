"""Weight resolution through every source, offline: local folders, a hand-built HF cache,
and a loopback Hub reached through HF_ENDPOINT (huggingface_hub reads it at import, so
the Hub paths run in child processes)."""

import concurrent.futures
import hashlib
import json
import os
import shutil

import pytest

from conftest import clean_env, run_python
from helpers.fake_hub import FakeHub
from zoo import hub
from zoo.errors import WeightsIntegrityError, WeightsNotFoundError

RESOLVE = """
import sys
from zoo import hub
from zoo.errors import ZooError
try:
    path = hub.resolve("lenet5.mnist")
except ZooError as e:
    print(type(e).__name__ + ": " + str(e)); sys.exit(3)
print(path)
"""


def _env(tmp_path, manifest, **extra):
    return clean_env(
        ZOO_MANIFEST=manifest, ZOO_NO_CHECKOUT_WEIGHTS=1, HF_HUB_CACHE=tmp_path / "hf-cache",
        ZOO_WEIGHTS_DIR=tmp_path / "zoo-weights", **extra,
    )


def test_local_weights_dir_first(tmp_path, manifest_with, lenet_weights, monkeypatch):
    manifest_with(lenet_weights["entry"])
    d = tmp_path / "mine"
    d.mkdir()
    shutil.copy(lenet_weights["path"], d)
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(d))
    monkeypatch.setenv("ZOO_NO_CHECKOUT_WEIGHTS", "1")
    assert hub.resolve("lenet5.mnist") == d / "lenet5.mnist.weights.h5"


def test_wrong_sha256_is_an_error_that_says_what_to_do(tmp_path, manifest_with, lenet_weights, monkeypatch):
    manifest_with(lenet_weights["entry"])
    data = bytearray(lenet_weights["bytes"])
    data[-100] ^= 0xFF  # same size, different content
    (tmp_path / "lenet5.mnist.weights.h5").write_bytes(bytes(data))
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(WeightsIntegrityError) as err:
        hub.resolve("lenet5.mnist")
    msg = str(err.value)
    assert str(tmp_path / "lenet5.mnist.weights.h5") in msg
    assert lenet_weights["entry"]["sha256"] in msg
    assert hashlib.sha256(bytes(data)).hexdigest() in msg
    assert "delete" in msg


def test_truncated_file_is_an_error(tmp_path, manifest_with, lenet_weights, monkeypatch):
    manifest_with(lenet_weights["entry"])
    (tmp_path / "lenet5.mnist.weights.h5").write_bytes(lenet_weights["bytes"][:5000])
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(WeightsIntegrityError, match="truncated"):
        hub.resolve("lenet5.mnist")


def test_missing_entry_is_an_error(manifest_with):
    manifest_with()
    with pytest.raises(WeightsNotFoundError, match="weights=None"):
        hub.resolve("lenet5.mnist")


def _build_hf_cache(cache, repo_id, commit, filename, data, ref="main"):
    """The layout huggingface_hub writes: blobs by etag, snapshots by commit, refs by name."""
    root = cache / f"models--{repo_id.replace('/', '--')}"
    (root / "blobs").mkdir(parents=True)
    blob = root / "blobs" / hashlib.sha256(data).hexdigest()
    blob.write_bytes(data)
    snap = root / "snapshots" / commit
    snap.mkdir(parents=True)
    os.symlink(os.path.relpath(blob, snap), snap / filename)
    (root / "refs").mkdir()
    (root / "refs" / ref).write_text(commit)


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned-revision", "main-ref"])
def test_hand_built_hf_cache_offline(tmp_path, manifest_with, lenet_weights, pinned):
    commit = "a" * 40
    manifest = manifest_with(lenet_weights["entry"], revision=commit if pinned else None)
    _build_hf_cache(tmp_path / "hf-cache", "zoo-test/lenet5.mnist", commit,
                    "lenet5.mnist.weights.h5", lenet_weights["bytes"])
    r = run_python(RESOLVE, _env(tmp_path, manifest, HF_HUB_OFFLINE=1))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"snapshots/{commit}/lenet5.mnist.weights.h5" in r.stdout


def test_offline_with_empty_cache_says_how_to_get_weights(tmp_path, manifest_with, lenet_weights):
    manifest = manifest_with(lenet_weights["entry"])
    r = run_python(RESOLVE, _env(tmp_path, manifest, HF_HUB_OFFLINE=1))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "WeightsNotFoundError" in r.stdout
    assert "HF_HUB_OFFLINE=1" in r.stdout and "unset HF_HUB_OFFLINE" in r.stdout
    assert "ZOO_WEIGHTS_DIR" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_download_pinned_revision_from_loopback_hub(tmp_path, manifest_with, lenet_weights):
    with FakeHub() as fake:
        first = fake.commit("zoo-test/lenet5.mnist", {"lenet5.mnist.weights.h5": lenet_weights["bytes"]})
        fake.commit("zoo-test/lenet5.mnist", {"lenet5.mnist.weights.h5": b"a later, different file"})
        manifest = manifest_with(lenet_weights["entry"], revision=first)
        r = run_python(RESOLVE, _env(tmp_path, manifest, HF_ENDPOINT=fake.endpoint))
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"snapshots/{first}/" in r.stdout
        assert ("GET", f"/zoo-test/lenet5.mnist/resolve/{first}/lenet5.mnist.weights.h5") in fake.requests
        # The same file, now from the cache with the Hub unreachable.
        r = run_python(RESOLVE, _env(tmp_path, manifest, HF_HUB_OFFLINE=1))
        assert r.returncode == 0, r.stdout + r.stderr


def test_hub_serving_other_bytes_is_refused(tmp_path, manifest_with, lenet_weights):
    with FakeHub() as fake:
        fake.commit("zoo-test/lenet5.mnist", {"lenet5.mnist.weights.h5": lenet_weights["bytes"][::-1]})
        manifest = manifest_with(lenet_weights["entry"])
        r = run_python(RESOLVE, _env(tmp_path, manifest, HF_ENDPOINT=fake.endpoint))
    assert r.returncode == 3 and "WeightsIntegrityError" in r.stdout, r.stdout + r.stderr
    assert lenet_weights["entry"]["sha256"] in r.stdout


def test_unpublished_repo_is_a_clear_error(tmp_path, manifest_with, lenet_weights):
    with FakeHub() as fake:
        manifest = manifest_with(lenet_weights["entry"])
        r = run_python(RESOLVE, _env(tmp_path, manifest, HF_ENDPOINT=fake.endpoint))
    assert r.returncode == 3 and "may not be published yet" in r.stdout, r.stdout + r.stderr


def test_failed_download_leaves_nothing_half_written(tmp_path, manifest_with, lenet_weights):
    with FakeHub() as fake:
        commit = fake.commit("zoo-test/lenet5.mnist", {"lenet5.mnist.weights.h5": lenet_weights["bytes"]})
        fake.truncate_after = 4096
        manifest = manifest_with(lenet_weights["entry"], revision=commit)
        env = _env(tmp_path, manifest, HF_ENDPOINT=fake.endpoint, HF_HUB_DOWNLOAD_TIMEOUT=5)
        r = run_python(RESOLVE, env)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "WeightsNotFoundError" in r.stdout and "retry" in r.stdout
    assert not (tmp_path / "zoo-weights").exists() or not any((tmp_path / "zoo-weights").iterdir())
    snapshots = list((tmp_path / "hf-cache").rglob("snapshots/*/*"))
    assert snapshots == [], f"a half-downloaded file was published in the cache: {snapshots}"
    complete_blobs = [p for p in (tmp_path / "hf-cache").rglob("blobs/*") if not p.name.endswith(".incomplete")]
    assert complete_blobs == []


def test_four_processes_load_the_same_weights_at_once(tmp_path, manifest_with, lenet_weights):
    code = RESOLVE.replace("print(path)", "from zoo.hub import sha256_of; print(sha256_of(path))")
    with FakeHub() as fake:
        commit = fake.commit("zoo-test/lenet5.mnist", {"lenet5.mnist.weights.h5": lenet_weights["bytes"]})
        manifest = manifest_with(lenet_weights["entry"], revision=commit)
        env = _env(tmp_path, manifest, HF_ENDPOINT=fake.endpoint)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: run_python(code, env), range(4)))
    for r in results:
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.strip() == lenet_weights["entry"]["sha256"]
    blobs = list((tmp_path / "hf-cache").rglob("blobs/*"))
    assert len(blobs) == 1 and hashlib.sha256(blobs[0].read_bytes()).hexdigest() == lenet_weights["entry"]["sha256"]


def test_manifest_is_read_fresh(manifest_with, lenet_weights):
    path = manifest_with(lenet_weights["entry"])
    data = json.loads(path.read_text())
    assert data["weights"]["lenet5.mnist"]["sha256"] == lenet_weights["entry"]["sha256"]


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def olah_mirror(tmp_path):
    """The real self-hosted mirror `olah`, offline, serving a local git repo on 127.0.0.1."""
    import subprocess
    import sys
    import textwrap
    import time
    import urllib.error
    import urllib.request

    pytest.importorskip("olah", reason="olah is a test dependency (pip install -e .[test])")
    if shutil.which("git") is None:
        pytest.skip("olah needs the git program")
    repo = tmp_path / "mirrors" / "models" / "zoo-test" / "lenet5.mnist"
    repo.mkdir(parents=True)

    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                              env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                                       GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")).stdout.strip()

    git("init", "-q", "-b", "main")
    port = _free_port()
    cfg = tmp_path / "olah.toml"
    cfg.write_text(textwrap.dedent(f"""\
        [basic]
        host = "127.0.0.1"
        port = {port}
        repos-path = "{tmp_path / 'olah-cache'}"
        mirrors-path = ["{tmp_path / 'mirrors'}"]
        hf-scheme = "http"
        hf-netloc = "127.0.0.1:9"
        hf-lfs-netloc = "127.0.0.1:9"
        mirror-scheme = "http"
        mirror-netloc = "127.0.0.1:{port}"
        mirror-lfs-netloc = "127.0.0.1:{port}"

        [accessibility]
        offline = true
        """))
    log = open(tmp_path / "olah.log", "w")
    state = {"git": git, "endpoint": f"http://127.0.0.1:{port}", "proc": None}

    def start():
        state["proc"] = subprocess.Popen(
            [sys.executable, "-m", "olah.server", "--config", str(cfg), "--log-path", str(tmp_path / "logs")],
            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, env=clean_env(HF_HUB_OFFLINE=1))
        deadline = time.time() + 60
        while time.time() < deadline:
            assert state["proc"].poll() is None, (tmp_path / "olah.log").read_text()
            try:
                urllib.request.urlopen(f"{state['endpoint']}/api/models/zoo-test/lenet5.mnist/revision/main",
                                       timeout=1).read()
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError("olah did not start")

    state["start"] = start
    yield state
    if state["proc"]:
        state["proc"].terminate()
        state["proc"].wait(timeout=10)
    log.close()


def test_download_pinned_revision_through_olah_mirror(tmp_path, manifest_with, lenet_weights, olah_mirror):
    repo = tmp_path / "mirrors" / "models" / "zoo-test" / "lenet5.mnist"
    (repo / "lenet5.mnist.weights.h5").write_bytes(lenet_weights["bytes"])
    (repo / "config.json").write_text("{}")
    olah_mirror["git"]("add", ".")
    olah_mirror["git"]("commit", "-q", "-m", "v1")
    first = olah_mirror["git"]("rev-parse", "HEAD")
    (repo / "lenet5.mnist.weights.h5").write_bytes(b"retrained, different bytes")
    olah_mirror["git"]("commit", "-q", "-am", "v2")
    olah_mirror["start"]()
    manifest = manifest_with(lenet_weights["entry"], revision=first)
    env = _env(tmp_path, manifest, HF_ENDPOINT=olah_mirror["endpoint"], HF_HOME=tmp_path / "hf-home")
    r = run_python(RESOLVE.replace("print(path)", "from zoo.hub import sha256_of; print(path); print(sha256_of(path))"), env)
    assert r.returncode == 0, r.stdout + r.stderr
    path, sha = r.stdout.split()
    assert f"snapshots/{first}/lenet5.mnist.weights.h5" in path
    assert sha == lenet_weights["entry"]["sha256"]
    # "main" now points at v2, whose bytes are not the published ones: refused.
    manifest = manifest_with(lenet_weights["entry"], revision=None)
    env["HF_HUB_CACHE"] = str(tmp_path / "cache2")
    r = run_python(RESOLVE, dict(env, ZOO_MANIFEST=str(manifest)))
    assert r.returncode == 3 and "WeightsIntegrityError" in r.stdout, r.stdout + r.stderr
