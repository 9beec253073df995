"""Device choice: CUDA when present, the CPU otherwise; ``NOISYRNN_DEVICE`` overrides.

``NOISYRNN_DEVICE`` takes any torch device string (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
Asking for a CUDA device on a machine without one is an error, not a silent CPU run.
"""

from __future__ import annotations

import os
import platform
from typing import Any

ENV_VAR = "NOISYRNN_DEVICE"


def pick_device(override: Any = None):
    """``torch.device`` to compute on: ``override``, else ``$NOISYRNN_DEVICE``, else CUDA
    if available, else CPU."""
    import torch

    choice = override if override not in (None, "") else os.environ.get(ENV_VAR, "").strip()
    if choice:
        device = torch.device(choice)
        if device.type == "cuda" and not torch.cuda.is_available():
            source = "override" if override not in (None, "") else f"${ENV_VAR}"
            raise RuntimeError(f"{source} asks for {choice!r} but CUDA is not available here")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def describe_device(device) -> dict[str, str]:
    """``{"type", "name"}`` of a torch device, e.g. ``{"type": "cuda", "name": "NVIDIA H100"}``."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return {"type": "cuda", "name": torch.cuda.get_device_name(index), "index": str(index)}
    if device.type == "cpu":
        return {"type": "cpu", "name": _cpu_name()}
    return {"type": device.type, "name": str(device)}


def set_threads(n: int | None) -> None:
    """Let torch use ``n`` CPU threads (Snakemake's ``threads:`` of the job)."""
    if not n or n < 1:
        return
    import torch

    torch.set_num_threads(int(n))
