"""Maintainer operations: install trained weights into the manifest, build and publish Hub repos.

``tools/add_weights.py``, ``tools/publish_weights.py`` are thin command lines over
these functions.

Example::

    from zoo.release import add_trained_weights, build_hub_folder
    add_trained_weights("runs/lenet5_mnist", "lenet5.mnist")
    build_hub_folder("lenet5.mnist", "/tmp/hub/lenet5.mnist")
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from zoo import registry
from zoo.errors import ZooError
from zoo.hub import CHECKOUT_WEIGHTS_DIR, resolve, sha256_of
from zoo.manifest import get_entry, load_manifest, today, update_entry, write_manifest

HUB_ORG = "zoo-vision"
LIBRARY = "keras"


def weights_filename(name: str) -> str:
    return f"{name}.weights.h5"


def add_trained_weights(run_dir: str | Path, name: str, weights_dir: Path = CHECKOUT_WEIGHTS_DIR,
                        manifest_path=None) -> dict:
    """Copy a finished run's ``final.weights.h5`` into ``weights/`` and (re)write its manifest entry.

    Metrics are reset: run ``tools/evaluate.py NAME --write-manifest`` next.
    """
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if not summary_path.exists():
        raise ZooError(f"{run_dir} has no summary.json: the run has not finished")
    summary = json.loads(summary_path.read_text())
    spec, tag = registry.resolve_name(name)
    if tag is None or f"{spec.arch}.{tag.tag}" != name:
        raise ZooError(f"{name} is not a registered arch.tag name")
    if summary["recipe"]["model"] != spec.arch:
        raise ZooError(f"run {run_dir} trained {summary['recipe']['model']}, not {spec.arch}")
    if summary["commit"].endswith("-dirty") or summary["commit"] == "unknown":
        raise ZooError(
            f"run {run_dir} was made from uncommitted code ({summary['commit']}); weights must "
            f"be reproducible from a commit: commit, then train again"
        )
    source = {
        "kind": "zoo-trained",
        "recipe": summary["recipe_file"],
        "recipe_version": summary["recipe"]["version"],
        "commit": summary["commit"],
        "dataset": tag.dataset,
        "epochs": summary["epochs_logged"],
    }
    if summary.get("warm_start"):  # the weight it started from is part of how to regenerate it
        source["warm_start"] = {k: summary["warm_start"][k] for k in ("from", "sha256")}
    return _install(run_dir / "final.weights.h5", spec, tag, source, weights_dir, manifest_path)


def add_ported_weights(weights_file: str | Path, name: str, reference_file: str | Path,
                       weights_dir: Path = CHECKOUT_WEIGHTS_DIR, manifest_path=None) -> dict:
    """Install weights made by ``tools/port_weights.py`` from a redistributable reference file.

    Only tags that declare ``ported_from`` and a licence other than "none" qualify: the
    registry is where the decision to publish a port is written down and reviewed.
    """
    from zoo.provenance import git_commit

    spec, tag = registry.resolve_name(name)
    if tag is None or f"{spec.arch}.{tag.tag}" != name or not tag.ported_from:
        raise ZooError(f"{name} is not a registered tag of ported weights")
    if tag.license.lower() in ("", "none", "unknown"):
        raise ZooError(f"{name} has no licence that allows publishing it")
    commit = git_commit()
    if commit.endswith("-dirty") or commit == "unknown":
        raise ZooError(f"port {name} from committed code (the manifest records the commit); got {commit}")
    source = {
        "kind": "ported",
        "from": tag.ported_from,
        "license": tag.license,
        "reference_sha256": sha256_of(reference_file),
        "tool": "tools/port_weights.py",
        "commit": commit,
    }
    return _install(weights_file, spec, tag, source, weights_dir, manifest_path)


def _install(weights_file, spec, tag, source: dict, weights_dir: Path, manifest_path) -> dict:
    """Check a weights file against its architecture, copy it into ``weights_dir`` atomically
    and (re)write its manifest entry with metrics reset."""
    import zoo
    from zoo.weights_io import check_compatible, parameter_counts

    name = f"{spec.arch}.{tag.tag}"
    model = zoo.load(spec.arch, weights=None, **tag.builder_kwargs)
    check_compatible(model, weights_file, name)
    weights_dir.mkdir(parents=True, exist_ok=True)
    dst = weights_dir / weights_filename(name)
    tmp = dst.with_name(".tmp-" + dst.name)
    shutil.copyfile(weights_file, tmp)
    tmp.replace(dst)
    entry = {
        "model": name,
        "arch": spec.arch,
        "tag": tag.tag,
        "hub": {"repo_id": f"{HUB_ORG}/{name}", "revision": None},
        "file": dst.name,
        "sha256": sha256_of(dst),
        "size": dst.stat().st_size,
        **parameter_counts(model),
        "input_spec": spec.input_spec.to_json(),
        "builder_kwargs": dict(tag.builder_kwargs),
        "metrics": [],
        "license": tag.license,
        "source": source,
        "paper": spec.paper,
        "date": today(),
    }
    weights = load_manifest(manifest_path)
    weights[name] = entry
    write_manifest(weights, manifest_path)
    return entry


def recount_parameters(names=None, manifest_path=None) -> dict[str, dict]:
    """(Re)write the parameter counts of manifest entries (all when ``names`` is None) from their
    architectures; returns ``{name: counts}``. Only structural fields change, never metrics."""
    import zoo
    from zoo.weights_io import parameter_counts

    entries = load_manifest(manifest_path)
    unknown = sorted(set(names or ()) - set(entries))
    if unknown:
        raise ZooError(f"not in the manifest: {', '.join(unknown)}; published: {', '.join(sorted(entries))}")
    counts, changed = {}, False
    for name in names or sorted(entries):
        model = zoo.load(entries[name]["arch"], weights=None, **entries[name]["builder_kwargs"])
        counts[name] = parameter_counts(model)
        changed |= any(entries[name].get(key) != value for key, value in counts[name].items())
        entries[name] = dict(entries[name], **counts[name])
    if changed:
        write_manifest(entries, manifest_path)
    return counts


def model_card(entry: dict) -> str:
    """README.md for the Hub repo: YAML metadata + description, metrics, how to load."""
    spec = registry.get_spec(entry["arch"])
    tag = spec.tags[entry["tag"]]
    task_tag = {
        "classification": "image-classification",
        "super_resolution": "image-to-image",
        "denoising": "image-to-image",
    }[spec.task]
    lines = [
        "---",
        f"license: {entry['license'].lower()}",
        f"library_name: {LIBRARY}",
        f"pipeline_tag: {task_tag}",
        "tags:",
        "- zoo",
        "- keras",
        f"- {spec.family}",
        f"- {spec.task.replace('_', '-')}",
    ]
    if tag.dataset:
        lines += ["datasets:", f"- {tag.dataset}"]
    lines += ["---", "", f"# {entry['model']}", "", spec.description, "", tag.description, ""]
    lines += ["## Metrics", "", "| dataset | metric | value |", "|---|---|---|"]
    for m in entry["metrics"]:
        for k, v in m["values"].items():
            lines.append(f"| {m['dataset']} | {k} | {v} |")
    lines += ["", "Protocols:", ""]
    lines += [f"- **{m['dataset']}**: {m['protocol']}" for m in entry["metrics"]]
    src = entry["source"]
    params = f"{entry['num_trainable_params']:,}"
    if entry["num_trainable_params"] != entry["num_params"]:
        params += f" trainable ({entry['num_params']:,} with batch-norm statistics)"
    lines += [
        "",
        "## How to load",
        "",
        "```python",
        "import zoo",
        f'model = zoo.load("{entry["model"]}")  # sha256-verified',
        "```",
        "",
        f"Input: {json.dumps(entry['input_spec'])}.",
        "",
        "## Provenance",
        "",
        f"- Paper: {spec.paper}",
        f"- Parameters: {params}",
        f"- File: `{entry['file']}`, sha256 `{entry['sha256']}`",
    ]
    if src["kind"] == "zoo-trained":
        lines.append(f"- Trained by zoo with `{src['recipe']}` (v{src.get('recipe_version')}) at commit `{src['commit']}`")
    else:
        lines.append(f"- Ported from {src['from']} (licence: {src['license']})")
    return "\n".join(lines) + "\n"


def build_hub_folder(name: str, out_dir: str | Path) -> Path:
    """Write exactly what goes to the Hub repo of ``name`` into ``out_dir``."""
    entry = get_entry(name)
    if entry is None:
        raise ZooError(f"{name} is not in weights_manifest.json")
    if not entry["metrics"]:
        raise ZooError(f"{name} has no metrics yet: run tools/evaluate.py {name} --write-manifest")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ZooError(f"{out} is not empty; give a new folder")
    out.mkdir(parents=True, exist_ok=True)
    src = resolve(name)  # sha256-verified
    shutil.copyfile(src, out / entry["file"])
    config = {
        "library": "zoo",
        "arch": entry["arch"],
        "tag": entry["tag"],
        "builder_kwargs": entry["builder_kwargs"],
        "input_spec": entry["input_spec"],
        "weights_file": entry["file"],
        "sha256": entry["sha256"],
        "num_params": entry["num_params"],
        "num_trainable_params": entry["num_trainable_params"],
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "README.md").write_text(model_card(entry))
    return out


def publish(name: str, folder: str | Path, *, token: str | None = None, endpoint: str | None = None,
            private: bool = False, manifest_path=None) -> str:
    """Upload ``folder`` to the entry's Hub repo and record the commit in the manifest."""
    from huggingface_hub import HfApi

    entry = get_entry(name, manifest_path)
    if entry is None:
        raise ZooError(f"{name} is not in the manifest")
    api = HfApi(endpoint=endpoint, token=token)
    repo_id = entry["hub"]["repo_id"]
    api.create_repo(repo_id, repo_type="model", exist_ok=True, private=private)
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=str(folder),
        commit_message=f"zoo: publish {name} ({entry['sha256'][:12]})",
    )
    revision = info.oid
    hub = dict(entry["hub"], revision=revision)
    update_entry(name, {"hub": hub}, manifest_path)
    return revision
