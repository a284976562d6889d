#!/usr/bin/env python3
"""Runs the Python RollingDepth reference on a video and a checkpoint, times its stages, and
saves its outputs beside depthd's for scripts/gpu-bench.sh (and scripts/rollingdepth_ref/
compare.py).

The reference (prs-eth/RollingDepth and the modified diffusers 0.30.0 it ships) is NOT part of
this project: scripts/rollingdepth_ref/fetch_reference.sh puts it in an ignored folder, and
--ref points there. This script imports it and calls RollingDepthPipeline.forward() as
run_video.py's __call__ does, with the frames read from a .npy file ([N, 3, H, W] float32 in
[-1, 1], what load_video_frames returns) instead of decoding a video.

Missing third-party modules (einops, safetensors, huggingface_hub, transformers, PyAV,
torchvision) are replaced by this project's stand-ins (stand_ins/README.md) and listed in the
JSON under "stand_ins"; with PyTorch < 2, torch.nn.functional.scaled_dot_product_attention is
added (plain softmax attention) so that diffusers picks its AttnProcessor2_0, the processor the
reference modified for cross-frame attention (its plain AttnProcessor would silently drop
num_view). The empty-prompt embedding comes from the checkpoint's text encoder through
transformers (from_pretrained as run_video.py, else CLIPTextModel alone); without a usable
transformers, from --text_embedding (depthd's), and the JSON says which.

Stage times: every call of encode_rgb, single_step, decode_depth, DepthAligner.optimize,
DepthAligner.merge_scaled_triplets is wrapped with device synchronisation; what runs after
co-alignment (depth encoding, refinement, final decoding) counts as "refine". --plain_runs adds
runs without those synchronisations, for the end-to-end time alone.
"""

import argparse
import importlib
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
STAND_INS = os.path.join(HERE, "stand_ins")
OPTIONAL = ["einops", "safetensors", "huggingface_hub", "transformers", "av", "torchvision"]

PRESETS = {  # run_video.py's presets (res comes with the frames)
    "fast": dict(dilations=[1, 25], refine_step=0, cap_dilation=True, dtype="fp16"),
    "fast1024": dict(dilations=[1, 25], refine_step=0, cap_dilation=True, dtype="fp16"),
    "full": dict(dilations=[1, 10, 25], refine_step=10, cap_dilation=True, dtype="fp16"),
    "paper": dict(dilations=[1, 10, 25], refine_step=10, cap_dilation=False, dtype="fp32"),
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ref", required=True, help="folder with rollingdepth/ and diffusers/src/")
    p.add_argument("--checkpoint", required=True, help="RollingDepth checkpoint (diffusers layout)")
    p.add_argument("--frames", required=True, help=".npy [N, 3, H, W] float32 in [-1, 1]")
    p.add_argument("--preset", default="fast", choices=sorted(PRESETS))
    p.add_argument("--dilations", default=None, help="comma-separated; default: the preset's")
    p.add_argument("--refine_step", type=int, default=None)
    p.add_argument("--refine_start_dilation", type=int, default=6)
    p.add_argument("--cap_dilation", default=None, choices=["true", "false"])
    p.add_argument("--dtype", default=None, choices=["fp32", "fp16", "bf16"])
    p.add_argument("--device", default="cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max_vae_bs", type=int, default=4)
    p.add_argument("--coalign_iterations", type=int, default=None, help="default: the reference's")
    p.add_argument("--runs", type=int, default=1, help="timed runs (median reported)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first")
    p.add_argument("--warmup_frames", type=int, default=0, help="warm up on the first K frames (0: all)")
    p.add_argument("--plain_runs", type=int, default=0, help="extra runs timed end to end only")
    p.add_argument("--text_embedding", default=None, help=".npy [1, T, C], used without transformers")
    p.add_argument("--stand_ins", default="auto", help="auto | none | comma-separated names to force")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--out", required=True, help="folder for reference.json and the outputs")
    p.add_argument("--tag", default="reference", help="prefix of the output files")
    return p.parse_args()


def install_stand_ins(choice):
    forced = set() if choice in ("auto", "none") else set(choice.split(","))
    used = []
    for name in OPTIONAL:
        if name not in forced:
            try:
                importlib.import_module(name)
                continue
            except ImportError:
                if choice == "none":
                    raise
        sys.path.insert(0, os.path.join(STAND_INS, name))
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
        used.append(name)
    return used


def install_sdpa(torch):
    import torch.nn.functional as F

    if hasattr(F, "scaled_dot_product_attention"):
        return False

    def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
        if dropout_p:
            raise NotImplementedError("dropout")
        weights = (q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5 if scale is None else scale)
        if is_causal:
            n, m = weights.shape[-2:]
            causal = torch.ones(n, m, dtype=torch.bool, device=q.device).tril()
            weights = weights.masked_fill(~causal, float("-inf"))
        if attn_mask is not None:
            if attn_mask.dtype == torch.bool:
                weights = weights.masked_fill(~attn_mask, float("-inf"))
            else:
                weights = weights + attn_mask
        return weights.softmax(-1) @ v

    F.scaled_dot_product_attention = scaled_dot_product_attention
    return True


class Timer:
    """Accumulates seconds per stage; wraps callables with device synchronisation."""

    def __init__(self, torch, device):
        self.torch, self.device = torch, device
        self.enabled = True
        self.after_coalign = False
        self.seconds = {}

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def wrap(self, owner, name, stage, marks_coalign=False):
        original = getattr(owner, name)
        timer = self

        def timed(*args, **kwargs):
            if not timer.enabled:
                return original(*args, **kwargs)
            key = "refine" if timer.after_coalign else stage
            timer.sync()
            start = time.perf_counter()
            out = original(*args, **kwargs)
            timer.sync()
            timer.seconds[key] = timer.seconds.get(key, 0.0) + time.perf_counter() - start
            if marks_coalign:
                timer.after_coalign = True
            return out

        setattr(owner, name, timed)


def main():
    args = parse_args()
    preset = dict(PRESETS[args.preset])
    dilations = [int(d) for d in args.dilations.split(",")] if args.dilations else preset["dilations"]
    refine_step = preset["refine_step"] if args.refine_step is None else args.refine_step
    cap = preset["cap_dilation"] if args.cap_dilation is None else args.cap_dilation == "true"
    dtype_name = args.dtype or preset["dtype"]

    stand_ins = install_stand_ins(args.stand_ins)
    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    sdpa_stand_in = install_sdpa(torch)
    sys.path.insert(0, os.path.join(args.ref, "diffusers", "src"))
    sys.path.insert(0, args.ref)
    import_error = None
    try:
        import diffusers.pipelines.pipeline_loading_utils  # noqa: F401
    except ImportError as e:
        # diffusers 0.30.0 imports transformers names that later releases dropped (e.g.
        # transformers.utils.FLAX_WEIGHTS_NAME in 5.x): hide transformers from it and use the
        # stand-in for the reference's own import; the text embedding then comes from the file.
        if "transformers" in stand_ins:
            raise
        import_error = repr(e)[:300]
        for key in [k for k in sys.modules if k.split(".")[0] in ("diffusers", "transformers")]:
            del sys.modules[key]
        sys.path.insert(0, os.path.join(STAND_INS, "transformers"))
        stand_ins.append("transformers")
        import diffusers.utils.import_utils as import_utils

        import_utils._transformers_available = False
    import diffusers
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from rollingdepth import depth_aligner
    from rollingdepth.rollingdepth_pipeline import RollingDepthPipeline

    device = torch.device(args.device)
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype_name]
    report = {
        "side": "reference",
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "dtype": dtype_name,
        "preset": args.preset,
        "dilations": dilations,
        "refine_step": refine_step,
        "cap_dilation": cap,
        "seed": args.seed,
        "stand_ins": stand_ins + (["torch.nn.functional.scaled_dot_product_attention"] if sdpa_stand_in else []),
        "threads": torch.get_num_threads(),
    }
    if import_error:
        report["diffusers_with_transformers_error"] = import_error

    # Load as run_video.py does when transformers is there; else the three diffusers parts and
    # the embedding from a file.
    load_start = time.perf_counter()
    pipe = None
    if "transformers" not in stand_ins:
        try:
            pipe = RollingDepthPipeline.from_pretrained(args.checkpoint, torch_dtype=dtype)
            report["text_embedding"] = "the checkpoint's text encoder and tokenizer (transformers)"
        except Exception as e:  # e.g. a transformers release that diffusers 0.30.0 cannot drive
            report["from_pretrained_error"] = repr(e)[:500]
    if pipe is None:
        unet = UNet2DConditionModel.from_pretrained(args.checkpoint, subfolder="unet", torch_dtype=dtype)
        vae = AutoencoderKL.from_pretrained(args.checkpoint, subfolder="vae", torch_dtype=dtype)
        scheduler = DDIMScheduler.from_pretrained(args.checkpoint, subfolder="scheduler")
        pipe = RollingDepthPipeline(unet=unet, vae=vae, scheduler=scheduler, text_encoder=None, tokenizer=None)
        embedding = None
        if "transformers" not in stand_ins:
            try:  # the text encoder alone, on the two ids encode_empty_text's tokenizer gives
                import transformers

                encoder = transformers.CLIPTextModel.from_pretrained(
                    os.path.join(args.checkpoint, "text_encoder"), torch_dtype=dtype).to(device)
                with open(os.path.join(args.checkpoint, "tokenizer", "vocab.json")) as f:
                    vocab = json.load(f)
                ids = torch.tensor([[vocab["<|startoftext|>"], vocab["<|endoftext|>"]]], device=device)
                with torch.no_grad():
                    embedding = encoder(ids)[0].to(dtype)
                del encoder
                report["text_embedding"] = "the checkpoint's text encoder (transformers), ids from vocab.json"
            except Exception as e:
                report["text_encoder_error"] = repr(e)[:500]
        if embedding is None:
            if not args.text_embedding:
                sys.exit("no text encoder: give --text_embedding (bench_rollingdepth --save writes one)")
            embedding = torch.from_numpy(np.load(args.text_embedding))
            report["text_embedding"] = f"from {os.path.basename(args.text_embedding)} (depthd's; no usable transformers)"
        pipe.empty_text_embed = embedding.to(device, dtype)
    # Every weight of the file is a parameter of diffusers' module and the other way round
    # (diffusers only warns about missing or unused keys).
    from safetensors import safe_open

    for part in ("unet", "vae"):
        path = os.path.join(args.checkpoint, part, "diffusion_pytorch_model.safetensors")
        with safe_open(path, framework="pt") as f:
            stored = set(f.keys())
        expected = set(getattr(pipe, part).state_dict().keys())
        if stored != expected:
            sys.exit(f"{path}: keys differ from diffusers' {part}: missing {sorted(expected - stored)[:5]}, "
                     f"unexpected {sorted(stored - expected)[:5]}")
    report["weights"] = "every UNet and VAE key of the checkpoint matches diffusers' modules"
    try:
        pipe.enable_xformers_memory_efficient_attention()
        report["attention"] = "xformers"
    except (ImportError, ModuleNotFoundError, ValueError):
        report["attention"] = "AttnProcessor2_0 (scaled_dot_product_attention)"
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    report["load_s"] = time.perf_counter() - load_start

    timer = Timer(torch, device)
    timer.wrap(pipe, "encode_rgb", "encode")
    timer.wrap(pipe, "single_step", "unet")
    timer.wrap(pipe, "decode_depth", "decode")
    timer.wrap(depth_aligner.DepthAligner, "optimize", "coalign")
    timer.wrap(depth_aligner.DepthAligner, "merge_scaled_triplets", "merge", marks_coalign=True)

    frames = torch.from_numpy(np.load(args.frames))
    if frames.dim() != 4 or frames.shape[1] != 3:
        sys.exit(f"{args.frames}: expected [N, 3, H, W], got {list(frames.shape)}")
    report.update(frames=frames.shape[0], height=frames.shape[2], width=frames.shape[3])
    coalign_kwargs = None if args.coalign_iterations is None else {"num_iterations": args.coalign_iterations}

    def run(video):
        generator = torch.Generator(device=device)
        generator.manual_seed(args.seed)
        timer.seconds, timer.after_coalign = {}, False
        timer.sync()
        start = time.perf_counter()
        with torch.no_grad():
            out = pipe.forward(
                input_frames=video[None],
                dilations=list(dilations),
                cap_dilation=cap,
                snippet_lengths=[3],
                init_infer_steps=[1],
                strides=[1],
                coalign_kwargs=coalign_kwargs,
                refine_step=refine_step,
                refine_snippet_len=3,
                refine_start_dilation=args.refine_start_dilation,
                generator=generator,
                verbose=False,
                max_vae_bs=args.max_vae_bs,
                unload_snippet=False,
            )
        if device.type == "cuda":
            torch.cuda.empty_cache()  # as __call__ does
        timer.sync()
        seconds = dict(timer.seconds, total=time.perf_counter() - start)
        return out, seconds

    warm = frames if args.warmup_frames <= 0 else frames[: args.warmup_frames]
    for _ in range(args.warmup):
        run(warm)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    runs = []
    out = None
    for _ in range(args.runs):
        out, seconds = run(frames)
        runs.append(seconds)
    if device.type == "cuda":
        report["peak_allocated_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        report["peak_reserved_gib"] = torch.cuda.max_memory_reserved(device) / 2**30
    timer.enabled = False
    plain = [run(frames)[1]["total"] for _ in range(args.plain_runs)]

    stages = ["encode", "unet", "decode", "coalign", "merge", "refine", "total"]
    median = {s: statistics.median(r.get(s, 0.0) for r in runs) for s in stages}
    per100 = 100.0 / frames.shape[0]
    report["runs"] = runs
    report["median_s"] = median
    report["seconds_per_100_frames"] = {s: v * per100 for s, v in median.items()}
    if plain:
        report["plain_totals_s"] = plain
        report["plain_seconds_per_100_frames"] = statistics.median(plain) * per100

    os.makedirs(args.out, exist_ok=True)
    for i, snippets in enumerate(out.snippet_ls):  # [S, L, 1, H, W] per dilation
        np.save(os.path.join(args.out, f"{args.tag}_snippets_g{i}.npy"), snippets[:, :, 0].float().numpy())
    np.save(os.path.join(args.out, f"{args.tag}_coaligned.npy"), out.depth_coaligned[:, 0].float().numpy())
    np.save(os.path.join(args.out, f"{args.tag}_depth.npy"), out.depth_pred[:, 0].float().numpy())
    with open(os.path.join(args.out, f"{args.tag}.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps({k: report[k] for k in ("device", "dtype", "preset", "frames", "stand_ins", "attention")}))
    print("seconds per 100 frames:", {k: round(v, 3) for k, v in report["seconds_per_100_frames"].items()})


if __name__ == "__main__":
    main()
