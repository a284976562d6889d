import os

HF_HOME = os.path.expanduser(os.environ.get("HF_HOME", "~/.cache/huggingface"))
HF_HUB_CACHE = os.path.join(HF_HOME, "hub")
HUGGINGFACE_HUB_CACHE = HF_HUB_CACHE
HF_HUB_OFFLINE = True
HF_HUB_DISABLE_TELEMETRY = True
ENDPOINT = "offline"
