"""Result tables of the published weights, built from the manifest (never typed by hand).

``tools/results_table.py`` writes them to ``docs/results.md`` and into the README between
``<!-- results:begin -->`` and ``<!-- results:end -->``.  Every measured number comes from a
manifest metric (written by ``tools/evaluate.py``) or from a baseline measured by the tool on the
same protocol (bicubic upsampling, the noisy input itself).  The only constants are the
published figures of reference methods, each labelled with its paper.

Example::

    from zoo.manifest import load_manifest
    from zoo.results import results_markdown
    print(results_markdown(load_manifest()))
"""

from __future__ import annotations

import re

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

#: Published figures of reference methods (not measured here): the targets the issues set.
SR_REFERENCE = {4: ("FSRCNN, published", {"psnr_y": 30.72}, "Dong, Loy, Tang, ECCV 2016 (not measured here)")}
DENOISE_REFERENCE = ("DnCNN-S, published", "556,096", {15: 32.86, 25: 30.44, 50: 27.18},
                     "Zhang et al., TIP 2017 (not measured here)")


def _metrics(entry) -> dict:
    return {m["dataset"]: m["values"] for m in entry.get("metrics", [])}


def _fmt(value, digits=2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _source(entry) -> str:
    src = entry.get("source", {})
    if src.get("kind") == "ported":
        return f"port ({entry.get('license', '?')})"
    warm = src.get("warm_start")
    return "trained here" + (f", from {warm['from']}" if warm else "")


def _scale_of(dataset: str) -> int | None:
    m = re.search(r"-x(\d)$", dataset)
    return int(m.group(1)) if m else None


def _sigma_of(dataset: str) -> int | None:
    m = re.search(r"-s(\d+)$", dataset)
    return int(m.group(1)) if m else None


def sr_table(manifest: dict, baselines: dict | None = None) -> str:
    """One row per (weight, scale): Set5 / Set14 Y-PSNR and SSIM; bicubic rows from ``baselines``."""
    rows = []
    for name, entry in sorted(manifest.items()):
        met = _metrics(entry)
        for scale in sorted({_scale_of(d) for d in met if _scale_of(d)}):
            s5, s14 = met.get(f"set5-x{scale}", {}), met.get(f"set14-x{scale}", {})
            rows.append((scale, f"`{name}`", f"{entry['num_trainable_params']:,}", s5, s14, _source(entry)))
    if not rows:
        return ""
    base = baselines or {}
    for scale in sorted({r[0] for r in rows}):
        if f"set5-x{scale}" in base:
            rows.append((scale, "bicubic (floor)", "0", base[f"set5-x{scale}"], base.get(f"set14-x{scale}", {}),
                         "measured by the tool"))
        if scale in SR_REFERENCE:
            label, s5, src = SR_REFERENCE[scale]
            rows.append((scale, label, "—", s5, {}, src))
    out = ["| scale | weights | trainable params | Set5 PSNR | Set5 SSIM | Set14 PSNR | Set14 SSIM | source |",
           "|---:|---|---:|---:|---:|---:|---:|---|"]
    for scale, name, params, s5, s14, src in sorted(rows, key=lambda r: (r[0], not r[1].startswith("`"))):
        out.append(f"| x{scale} | {name} | {params} | {_fmt(s5.get('psnr_y'))} | {_fmt(s5.get('ssim_y'), 4)} | "
                   f"{_fmt(s14.get('psnr_y'))} | {_fmt(s14.get('ssim_y'), 4)} | {src} |")
    return "\n".join(out)


def denoise_table(manifest: dict, baselines: dict | None = None) -> str:
    """One row per weight: Set12 PSNR at each sigma it was measured at; the noisy input as a row."""
    sigmas, rows = set(), []
    for name, entry in sorted(manifest.items()):
        met = {_sigma_of(d): v for d, v in _metrics(entry).items() if d.startswith("set12-")}
        if met:
            sigmas |= set(met)
            rows.append((f"`{name}`", f"{entry['num_trainable_params']:,}", met, _source(entry)))
    if not rows:
        return ""
    sigmas = sorted(sigmas)
    noisy = {_sigma_of(d): v for d, v in (baselines or {}).items() if d.startswith("set12-")}
    if noisy:
        rows.append(("noisy input (floor)", "0", noisy, "measured by the tool"))
    label, params, figures, src = DENOISE_REFERENCE
    rows.append((label, params, {s: {"psnr": figures[s]} for s in sigmas if s in figures}, src))
    out = ["| weights | trainable params | " + " | ".join(f"Set12 σ{s}" for s in sigmas) + " | source |",
           "|---|---:|" + "---:|" * len(sigmas) + "---|"]
    for name, params, met, src in rows:
        cells = " | ".join(_fmt(met.get(s, {}).get("psnr")) for s in sigmas)
        out.append(f"| {name} | {params} | {cells} | {src} |")
    return "\n".join(out)


def classification_table(manifest: dict) -> str:
    rows = []
    for name, entry in sorted(manifest.items()):
        for dataset, values in _metrics(entry).items():
            if "top1_accuracy" in values:
                params = f"{entry['num_trainable_params']:,}"
                rows.append(f"| `{name}` | {params} | {dataset} | {values['top1_accuracy']:.4f} | {_source(entry)} |")
    if not rows:
        return ""
    return "\n".join(["| weights | trainable params | dataset | top-1 | source |", "|---|---:|---|---:|---|", *rows])


def results_markdown(manifest: dict, baselines: dict | None = None) -> str:
    """The three tables (super-resolution, denoising, classification) as Markdown."""
    parts = []
    for title, table in (("Super-resolution (Y channel, `scale` px shaved; `zoo/eval_sr.py`)",
                          sr_table(manifest, baselines)),
                         ("Denoising (Set12, seeded Gaussian noise; `zoo/eval_dn.py`)",
                          denoise_table(manifest, baselines)),
                         ("Classification", classification_table(manifest))):
        if table:
            parts.append(f"**{title}**\n\n{table}")
    return "\n\n".join(parts)


def replace_block(text: str, block: str) -> str:
    """``text`` with the part between the results markers replaced by ``block``."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"the README has no {BEGIN} ... {END} block")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{block}\n{END}{tail}"
