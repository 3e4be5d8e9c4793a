"""The published manifest must be complete and match the files it names."""

import copy
import json

import pytest

from zoo import registry
from zoo.hub import CHECKOUT_WEIGHTS_DIR, sha256_of
from zoo.manifest import REPO_DIR, REQUIRED_FIELDS, load_manifest, validate_entry
from zoo.recipes import list_recipes

MANIFEST = REPO_DIR / "weights_manifest.json"
ENTRIES = json.loads(MANIFEST.read_text())["weights"] if MANIFEST.exists() else {}


def test_manifest_exists_and_parses():
    assert MANIFEST.exists()
    assert load_manifest(MANIFEST) == ENTRIES


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_entry_schema(name):
    assert validate_entry(name, ENTRIES[name]) == []


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_entry_file_matches_sha256_and_size(name):
    entry = ENTRIES[name]
    path = CHECKOUT_WEIGHTS_DIR / entry["file"]
    assert path.is_file(), f"{path} is missing"
    assert path.stat().st_size == entry["size"]
    assert sha256_of(path) == entry["sha256"]


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_entry_agrees_with_registry(name):
    entry = ENTRIES[name]
    spec, tag = registry.resolve_name(name)
    assert tag is not None and tag.tag == entry["tag"]
    assert entry["input_spec"] == spec.input_spec.to_json()
    assert entry["builder_kwargs"] == tag.builder_kwargs
    if entry["source"]["kind"] == "zoo-trained":
        assert tag.recipe in list_recipes()
        assert entry["source"]["recipe"] == f"zoo/recipes/{tag.recipe}.py"
    for m in entry["metrics"]:
        assert m["weights_sha256"] == entry["sha256"], "metrics measured on another file"
    model = spec.builder(**tag.builder_kwargs)
    assert (entry["num_params"], entry["num_trainable_params"]) == (
        model.count_params(), sum(int(w.numpy().size) for w in model.trainable_weights)
    ), "parameter counts out of date: python tools/add_weights.py --recount"


def test_weights_folder_has_no_stray_files():
    listed = {e["file"] for e in ENTRIES.values()}
    present = {p.name for p in CHECKOUT_WEIGHTS_DIR.glob("*") if not p.name.startswith(".")}
    assert present <= listed | {f"LICENSE-{name}.txt" for name in ENTRIES}


@pytest.mark.parametrize("field", sorted(REQUIRED_FIELDS))
def test_schema_detects_missing_field(field, lenet_weights):
    entry = copy.deepcopy(lenet_weights["entry"])
    assert validate_entry("lenet5.mnist", entry) == []
    del entry[field]
    assert any(field in p for p in validate_entry("lenet5.mnist", entry))


def test_schema_detects_bad_values(lenet_weights):
    entry = copy.deepcopy(lenet_weights["entry"])
    entry["sha256"] = "abc"
    entry["metrics"] = []
    entry["source"] = {"kind": "found-on-a-disk"}
    problems = " ".join(validate_entry("lenet5.mnist", entry))
    assert "sha256" in problems and "no metrics" in problems and "source.kind" in problems


def test_provenance_ignores_tool_written_data(monkeypatch):
    import subprocess

    from zoo import provenance

    class Done:
        def __init__(self, out):
            self.stdout = out

    outputs = iter(["abc\n", " M weights_manifest.json\n M tests/golden/x.json\n M runs/x/history.csv\n"])
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: Done(next(outputs)))
    assert provenance.git_commit() == "abc"
    outputs = iter(["abc\n", " M zoo/api.py\n M weights_manifest.json\n"])
    assert provenance.git_commit() == "abc-dirty"


def test_atomic_writes_leave_nothing_half_written(tmp_path):
    import pytest

    from zoo.weights_io import _write_atomic, write_text_atomic

    write_text_atomic(tmp_path / "a.md", "hello")
    assert (tmp_path / "a.md").read_text() == "hello"

    def broken(tmp):
        open(tmp, "w").write("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        _write_atomic(tmp_path / "a.md", broken, suffix=".tmp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"] and (tmp_path / "a.md").read_text() == "hello"
