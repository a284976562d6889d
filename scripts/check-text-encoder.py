"""Compares depthd's CLIP text encoder with transformers' CLIPTextModel on random weights.

Usage: python3 scripts/check-text-encoder.py BUILD_DIR
Writes small checkpoints (text_encoder/ via save_pretrained, tokenizer/vocab.json) for both
hidden activations, runs BUILD_DIR/bench/rollingdepth/rollingdepth_text_check on each and
prints the largest absolute difference of the empty-prompt embedding. Needs torch and
transformers (e.g. on a GPU machine with PyTorch).
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
from transformers import CLIPTextConfig, CLIPTextModel


def main() -> int:
    build = sys.argv[1]
    worst = 0.0
    for act in ("gelu", "quick_gelu"):
        with tempfile.TemporaryDirectory() as root:
            config = CLIPTextConfig(vocab_size=49408, hidden_size=64, intermediate_size=128,
                                    num_hidden_layers=3, num_attention_heads=4,
                                    max_position_embeddings=77, hidden_act=act)
            torch.manual_seed(0)
            model = CLIPTextModel(config).eval()
            model.save_pretrained(os.path.join(root, "text_encoder"), safe_serialization=True)
            os.makedirs(os.path.join(root, "tokenizer"))
            with open(os.path.join(root, "tokenizer", "vocab.json"), "w") as f:
                json.dump({"<|startoftext|>": 49406, "<|endoftext|>": 49407}, f)
            with torch.no_grad():
                ref = model(torch.tensor([[49406, 49407]])).last_hidden_state.flatten()
            run = subprocess.run([os.path.join(build, "bench/rollingdepth/rollingdepth_text_check"), root],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                print(run.stderr)
                print(open(os.path.join(root, "text_encoder", "config.json")).read())
                return 1
            out = run.stdout.split()
            ours = torch.tensor([float(v) for v in out])
            diff = (ours - ref).abs().max().item()
            print(f"{act}: {ref.numel()} values, max |depthd - transformers| = {diff:.3g}, "
                  f"max |value| = {ref.abs().max().item():.3g}")
            worst = max(worst, diff)
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
