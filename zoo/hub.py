"""Weight resolution: explicit path, local folders, then the Hugging Face Hub.

Order, for a manifest entry:

1. ``$ZOO_WEIGHTS_DIR/<file>`` (a folder of weights you manage yourself);
2. ``<checkout>/weights/<file>`` when zoo runs from a source checkout (this is
   what makes the README demo run offline);
3. ``huggingface_hub.hf_hub_download(repo_id, file, revision=...)``, which
   honours ``HF_HUB_OFFLINE``, ``HF_HUB_CACHE`` and ``HF_ENDPOINT``.

The sha256 and size recorded in the manifest are verified on every load from
every source.  An explicit path passed by the user (``weights="my.weights.h5"``)
is the user's own file: it is checked against the architecture, not a hash.

Example::

    from zoo import hub
    path = hub.resolve("lenet5.mnist")   # verified local path
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from zoo.errors import WeightsIntegrityError, WeightsNotFoundError, ZooError
from zoo.manifest import REPO_DIR, get_entry

#: Folder of weight files in a source checkout.
CHECKOUT_WEIGHTS_DIR = REPO_DIR / "weights"


def sha256_of(path: Path | str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_file(path: Path | str, entry: dict) -> Path:
    """Raise :class:`WeightsIntegrityError` unless ``path`` has the entry's size and sha256."""
    path = Path(path)
    size = path.stat().st_size
    fix = (
        f"delete {path} and load again to fetch a fresh copy, or download "
        f"{entry['file']} from https://huggingface.co/{entry['hub']['repo_id']}"
    )
    if size != entry["size"]:
        raise WeightsIntegrityError(
            f"weights file {path} is {size} bytes, the manifest expects {entry['size']} "
            f"(truncated or wrong file): {fix}"
        )
    actual = sha256_of(path)
    if actual != entry["sha256"]:
        raise WeightsIntegrityError(
            f"weights file {path} has sha256 {actual}, expected {entry['sha256']} "
            f"for {entry['model']}: {fix}"
        )
    return path


def local_candidates(filename: str) -> list[Path]:
    """Local places a weights file may be in, in resolution order."""
    dirs = []
    if os.environ.get("ZOO_WEIGHTS_DIR"):
        dirs.append(Path(os.environ["ZOO_WEIGHTS_DIR"]).expanduser())
    if os.environ.get("ZOO_NO_CHECKOUT_WEIGHTS") != "1":
        dirs.append(CHECKOUT_WEIGHTS_DIR)
    return [d / filename for d in dirs]


def _download(entry: dict) -> Path:
    # Imported here: huggingface_hub reads HF_HUB_OFFLINE / HF_ENDPOINT at import.
    import huggingface_hub
    from huggingface_hub import errors as hf_errors

    repo_id = entry["hub"]["repo_id"]
    revision = entry["hub"].get("revision") or "main"
    where = f"{entry['file']} of {repo_id}@{revision}"
    ways = (
        f"or download it yourself and pass weights=PATH, or put it in $ZOO_WEIGHTS_DIR "
        f"(expected sha256 {entry['sha256']})"
    )
    try:
        return Path(
            huggingface_hub.hf_hub_download(
                repo_id=repo_id, filename=entry["file"], revision=revision
            )
        )
    except hf_errors.LocalEntryNotFoundError:
        if huggingface_hub.constants.HF_HUB_OFFLINE:
            raise WeightsNotFoundError(
                f"weights for {entry['model']} are not in the Hugging Face cache "
                f"({huggingface_hub.constants.HF_HUB_CACHE}) and HF_HUB_OFFLINE=1 forbids "
                f"downloading {where}: unset HF_HUB_OFFLINE to download them once, {ways}"
            ) from None
        raise WeightsNotFoundError(
            f"could not download {where} from {huggingface_hub.constants.ENDPOINT} "
            f"(no connection?) and they are not cached: connect and retry, {ways}"
        ) from None
    except (hf_errors.RepositoryNotFoundError, hf_errors.RevisionNotFoundError,
            hf_errors.EntryNotFoundError) as e:
        raise WeightsNotFoundError(
            f"the Hub has no {where} ({type(e).__name__}); the weights may not be "
            f"published yet: {ways}"
        ) from None
    except Exception as e:  # network failures surface as httpx/OSError/HfHubHTTPError types
        raise WeightsNotFoundError(
            f"downloading {where} failed: {type(e).__name__}: {str(e).splitlines()[0]}; retry, {ways}"
        ) from None


def resolve(name: str) -> Path:
    """Local, sha256-verified path of the published weights ``name`` (``arch.tag``)."""
    entry = get_entry(name)
    if entry is None:
        raise WeightsNotFoundError(
            f"{name} has no published weights in weights_manifest.json; pass weights=None "
            f"for random initialisation or weights=PATH for your own file"
        )
    for candidate in local_candidates(entry["file"]):
        if candidate.is_file():
            return verify_file(candidate, entry)
    path = _download(entry)
    return verify_file(path, entry)


def resolve_user_path(path: Path | str) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(f"weights file {path} does not exist")
    if not path.name.endswith(".weights.h5"):
        raise ZooError(
            f"weights file {path} is not a Keras '.weights.h5' file; save weights with "
            f"model.save_weights('name.weights.h5')"
        )
    return path
