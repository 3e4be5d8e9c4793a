"""The ``zoo`` command line.

Examples::

    zoo list --pretrained
    zoo info lenet5
    zoo predict lenet5 digit.png --top-k 3
    zoo upscale photo.png photo_x4.png --model xunit_sr_x4
    zoo denoise noisy.png clean.png --model dncnn_s25 --sigma 25
    zoo denoise noisy.png clean.png --model ffdnet --weights ffdnet.weights.h5 --sigma 30
    zoo denoise noisy.png clean.png --model dncnn_b --weights port.weights.h5 --option batch_norm=false
    zoo export xunit_sr_x4 --quantize int8 -o xunit_sr_x4_int8.tflite
    zoo export xunit_sr_x4 --quantize int8 --io uint8 -o xunit_sr_x4_int8_u8.tflite
    zoo export ffdnet --weights ffdnet.weights.h5 --sigma 30 -o ffdnet_s30.tflite
    zoo train lenet5_mnist --out runs/lenet5_mnist
    zoo eval lenet5.mnist --dataset mnist-test
    zoo eval xunit_dn_s25 --weights runs/xunit_dn_s25/final.weights.h5

Every error a user can cause prints one line ``zoo: error: ...`` and exits 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument on one line and exits 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_options(items) -> dict:
    """``["KEY=VALUE", ...]`` (``--option``) -> builder options; values are read as JSON
    (``false``, ``3``, ``0.5``; Python's ``True``/``False``/``None`` too), anything else is a string."""
    from zoo.errors import ZooError

    options = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ZooError(f"--option takes KEY=VALUE, got {item!r}")
        value = {"True": "true", "False": "false", "None": "null"}.get(value.strip(), value)
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options


def _number(kind, low, high, what):
    """An argparse type: ``kind`` (int/float) within [low, high], with a one-line reason otherwise."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} from {low} to {high}, got {value}")
        return value

    return parse


_positive_int = _number(int, 1, 10**9, "a whole number >= 1")
_sigma = _number(float, 0.0, 255.0, "a noise sigma on the 0-255 scale")
_fraction = _number(float, 0.01, 0.99, "a fraction")


def cmd_list(args) -> int:
    import zoo

    pretrained = True if args.pretrained else None
    names = zoo.list_models(args.pattern, pretrained=pretrained)
    if args.json:
        print(json.dumps(names))
    else:
        print("\n".join(names) if names else f"no model matches {args.pattern!r}")
    return 0


def cmd_info(args) -> int:
    import zoo

    info = zoo.info(args.name)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"{info['name']}  ({info['family']}, {info['task']})")
    print(f"  {info['description']}")
    print(f"  paper:      {info['paper']}")
    trainable = info["num_trainable_params"]
    extra = f" ({trainable:,} trainable)" if trainable != info["num_params"] else ""
    print(f"  parameters: {info['num_params']:,}{extra}")
    print(f"  input:      {json.dumps(info['input_spec'])}")
    for tag, t in info["tags"].items():
        mark = "*" if tag == info["default_tag"] else " "
        state = "published" if t["published"] else "not published"
        print(f"  {mark} tag {tag}: {t['description']} [{state}]")
    if "weights" in info:
        w = info["weights"]
        print(f"  weights:    {w['file']} ({w['size']:,} bytes) sha256 {w['sha256'][:16]}... "
              f"hub {w['hub']['repo_id']}@{w['hub']['revision'] or 'unpublished'}")
        print(f"  licence:    {w['license']}; source: {w['source'].get('kind')} "
              f"{w['source'].get('recipe') or w['source'].get('from')}")
    for m in info.get("metrics", []):
        values = ", ".join(f"{k}={v}" for k, v in m["values"].items())
        print(f"  metric:     {m['dataset']}: {values}")
    return 0


def cmd_predict(args) -> int:
    import zoo
    from zoo.inference import classify
    from zoo.registry import get_spec

    spec = get_spec(args.name)
    if spec.task != "classification":
        from zoo.errors import ZooError

        raise ZooError(f"{args.name} is a {spec.task} model; `zoo predict` is for classifiers")
    model = zoo.load(args.name, weights=args.weights or "default")
    for path in args.images:
        top = classify(model, path, top_k=args.top_k)[0]
        print(f"{path}: " + ", ".join(f"{c} ({p:.3f})" for c, p in top))
    return 0


def cmd_train(args) -> int:
    from zoo.recipes import get_recipe
    from zoo.train.runner import train

    recipe = get_recipe(args.recipe)
    out = args.out or f"runs/{recipe.name}"
    summary = train(
        recipe, out, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
        batch_size=args.batch_size, strategy=args.strategy,
    )
    print(f"weights: {summary['weights']}  (curves: {out}/curves.png, log: {out}/history.csv)")
    return 0


def cmd_eval(args) -> int:
    from zoo.errors import ZooError
    from zoo.evaluation import evaluate_file, evaluate_published

    if args.weights:
        if args.write_manifest:
            raise ZooError("--write-manifest records published weights only; a --weights file is measured "
                           "and printed (publish it with tools/add_weights.py, then zoo eval NAME.TAG)")
        results = evaluate_file(args.name, args.weights, args.dataset, **parse_options(args.option))
        label = f"{args.name} ({args.weights})"
    else:
        if args.option:
            raise ZooError("--option describes a --weights file; the published weights carry their own options")
        results = evaluate_published(args.name, args.dataset, write=args.write_manifest)
        label = args.name
    for bench, values in results.items():
        print(f"{label} on {bench}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    if args.write_manifest:
        print("written to weights_manifest.json")
    return 0


def cmd_upscale(args) -> int:
    from zoo.restore import upscale_file

    model = args.model or f"xunit_sr_x{args.scale or 4}"
    report = upscale_file(args.input, args.output, model=model, scale=args.scale, tile=args.tile,
                          progress=True if args.progress else None, weights=args.weights or "default",
                          options=parse_options(args.option))
    w, h = report["input_size"]
    ow, oh = report["output_size"]
    print(f"{report['output']}: {w}x{h} -> {ow}x{oh} ({report['mode']}) with {model} "
          f"in {report['seconds']:.2f} s")
    return 0


def cmd_denoise(args) -> int:
    from zoo.restore import DEFAULT_DENOISER, denoise_file

    model = args.model or DEFAULT_DENOISER
    report = denoise_file(args.input, args.output, model=model, sigma=args.sigma, per_channel=args.per_channel,
                          tile=args.tile, progress=True if args.progress else None, weights=args.weights or "default",
                          options=parse_options(args.option))
    w, h = report["size"]
    print(f"{report['output']}: {w}x{h} ({report['mode']}) denoised with {model} in {report['seconds']:.2f} s")
    return 0


def cmd_finetune(args) -> int:
    from zoo.train.finetune import finetune

    arch = args.name.split(".")[0]
    out = args.out or f"runs/finetune_{arch}"
    summary = finetune(args.name, args.data, out, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                       lr=args.lr, patience=args.patience, val_fraction=args.val_fraction)
    with open(f"{out}/history.csv") as f:
        best = max(float(row["val_psnr"]) for row in csv.DictReader(f))
    print(f"weights: {summary['weights']} (best validation PSNR {best:.2f} dB on "
          f"{len(summary['val_images'])} held-apart images; curves: {out}/curves.png)")
    print(f"use it: zoo.load({arch!r}, weights={summary['weights']!r})")
    print(f"measure it: zoo eval {arch} --weights {summary['weights']}")
    return 0


def cmd_export(args) -> int:
    import zoo.export
    from zoo.registry import get_spec
    from zoo.restore import noise_level_options

    quantize = None if args.quantize == "none" else args.quantize
    size = tuple(args.input_size) if args.input_size else None
    model = args.name
    options = parse_options(args.option)
    if args.sigma is not None:  # a build option here: zoo.load refuses it for a net without one
        options["sigma"] = args.sigma
    options = noise_level_options(get_spec(args.name), None, options)  # FFDNet without --sigma: an error
    if args.weights or options:  # a port / own weights, or other builder options
        model = zoo.load(args.name, weights=args.weights or "default", **options)
    report = zoo.export.tflite(model, args.output, quantize=quantize, representative_data=args.representative,
                               input_size=size, force=args.force, io_dtype=args.io)
    print(report.summary())
    if report.float_ops:
        print(f"warning: ops left in float32: {', '.join(report.float_ops)}", file=sys.stderr)
    print(f"sidecar: {report.sidecar}")
    return 0


def _image_command(sub, name, help_text, func, model_default=None, model_help="restoration model"):
    """A subcommand INPUT OUTPUT [--model] [--tile] [--progress] shared by upscale and denoise."""
    s = sub.add_parser(name, help=help_text)
    s.add_argument("input")
    s.add_argument("output")
    s.add_argument("--model", default=model_default, help=model_help)
    s.add_argument("--tile", type=_positive_int, default=256, help="tile side in input pixels")
    s.add_argument("--progress", action="store_true", help="always show a progress bar")
    s.add_argument("--weights", help="a .weights.h5 file instead of the published weights (e.g. a port)")
    s.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="builder option the weights file was saved with (repeatable), e.g. batch_norm=false")
    s.set_defaults(func=func)
    return s


def build_parser() -> argparse.ArgumentParser:
    from zoo.train.runner import STRATEGIES

    p = _Parser(prog="zoo", description="Classic and efficient vision networks with verified weights.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("list", help="list model names")
    s.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'xunit*'")
    s.add_argument("--pretrained", action="store_true", help="only names with published weights")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("info", help="architecture, input spec, weights and metrics of a model")
    s.add_argument("name")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("predict", help="classify images (top-k)")
    s.add_argument("name")
    s.add_argument("images", nargs="+", metavar="IMAGE")
    s.add_argument("--top-k", type=_positive_int, default=3)
    s.add_argument("--weights", help="a .weights.h5 file instead of the published weights")
    s.set_defaults(func=cmd_predict)

    s = _image_command(sub, "upscale", "super-resolve an image file (tiled: any size)", cmd_upscale,
                       model_help="super-resolution model (default xunit_sr_x{scale})")
    s.add_argument("--scale", type=_positive_int, help="upscaling factor the model must have")

    s = _image_command(sub, "denoise", "remove Gaussian noise from an image file (tiled: any size)", cmd_denoise,
                       model_help="denoising model (default: zoo.restore.DEFAULT_DENOISER, a published one)")
    s.add_argument("--sigma", type=_sigma, help="noise level of the image (0-255 scale), checked against the model")
    s.add_argument("--per-channel", action="store_true", help="denoise the channels of a colour image separately")

    s = sub.add_parser("finetune", help="adapt a pretrained restoration net to a folder of your images")
    s.add_argument("name")
    s.add_argument("--data", required=True, help="folder of high-resolution images")
    s.add_argument("--out", help="run folder (default runs/finetune_ARCH); rerun to resume")
    s.add_argument("--epochs", type=_positive_int, default=10)
    s.add_argument("--steps-per-epoch", type=_positive_int, default=200)
    s.add_argument("--lr", type=float, default=1e-4)
    s.add_argument("--patience", type=_positive_int, default=3, help="early-stopping patience (epochs)")
    s.add_argument("--val-fraction", type=_fraction, default=0.2, help="share of images held apart")
    s.set_defaults(func=cmd_finetune)

    s = sub.add_parser("export", help="export to TFLite for phones (builtin ops, verified against Keras)")
    s.add_argument("name")
    s.add_argument("-o", "--output", required=True, help="output .tflite file")
    s.add_argument("--quantize", choices=("none", "float16", "dynamic", "int8"), default="none")
    s.add_argument("--representative", help="folder of images from the model's domain (int8 calibration)")
    s.add_argument("--input-size", type=_positive_int, nargs=2, metavar=("H", "W"),
                   help="fix the input size (default: dynamic for fully convolutional models)")
    s.add_argument("--io", choices=("float32", "uint8"), default="float32",
                   help="uint8 (with --quantize int8): the model takes and returns 8-bit pixel values")
    s.add_argument("--force", action="store_true", help="keep a file that fails verification or the int8 audit")
    s.add_argument("--weights", help="a .weights.h5 file instead of the published weights (e.g. a port)")
    s.add_argument("--sigma", type=_sigma, help="the noise level a noise-conditioned denoiser (ffdnet) is built for")
    s.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="builder option (repeatable), e.g. batch_norm=false for a BN-merged DnCNN port")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("train", help="run (or resume) a training recipe")
    s.add_argument("recipe")
    s.add_argument("--out", help="run folder (default runs/RECIPE); rerun to resume")
    s.add_argument("--epochs", type=_positive_int)
    s.add_argument("--steps-per-epoch", type=_positive_int)
    s.add_argument("--batch-size", type=_positive_int)
    s.add_argument("--strategy", choices=STRATEGIES, default="default")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("eval", help="measure published weights (or --weights FILE) with the standard protocol")
    s.add_argument("name")
    s.add_argument("--dataset", help="benchmark name (default: the model's standard ones)")
    s.add_argument("--weights", help="measure this .weights.h5 file (your training, a port, a run checkpoint) "
                                     "instead of the published weights; nothing is recorded")
    s.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="builder option the weights file was saved with (repeatable), e.g. batch_norm=false")
    s.add_argument("--write-manifest", action="store_true",
                   help="record the values in weights_manifest.json")
    s.set_defaults(func=cmd_eval)
    return p


def main(argv=None) -> int:
    from zoo.errors import ZooError

    parser = build_parser()
    args = parser.parse_args(argv)
    from zoo._quiet import import_tensorflow_quietly

    import_tensorflow_quietly(training=args.func in (cmd_train, cmd_finetune))
    try:
        return args.func(args)
    except ZooError as e:
        print(f"zoo: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
