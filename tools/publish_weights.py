#!/usr/bin/env python
"""Build the Hugging Face Hub folder of manifest entries and upload it.

    python tools/publish_weights.py lenet5.mnist --dry-run --out build/hub
    HF_TOKEN=... python tools/publish_weights.py --all

Each folder holds the weights, config.json (builder arguments, input spec,
sha256) and a README.md model card.  After an upload the commit id is written
into the manifest entry's hub.revision, so loads pin that exact revision.
"""

import _common  # noqa: F401


def main():
    import argparse
    import tempfile
    from pathlib import Path

    from zoo.manifest import load_manifest
    from zoo.release import build_hub_folder, publish

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*")
    p.add_argument("--all", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="write the folders only")
    p.add_argument("--out", default=None, help="where folders are written (default: a temp dir)")
    p.add_argument("--endpoint", default=None, help="Hub endpoint (default: HF_ENDPOINT or huggingface.co)")
    args = p.parse_args()
    names = sorted(load_manifest()) if args.all else args.names
    if not names:
        p.error("give NAME(s) or --all")
    root = Path(args.out or tempfile.mkdtemp(prefix="zoo-hub-"))
    for name in names:
        folder = build_hub_folder(name, root / name)
        print(f"{name}: folder {folder}")
        if not args.dry_run:
            revision = publish(name, folder, endpoint=args.endpoint)
            print(f"{name}: uploaded, revision {revision} written to the manifest")


if __name__ == "__main__":
    _common.run(main)
