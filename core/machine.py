"""What machine a figure came from: CPU model, cores, whether the CPU has native bf16, GPU, library versions."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_supports_bf16() -> bool:
    """True on CPUs with native bf16 matmul (AVX512-BF16 or AMX)."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def cpu_name() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info() -> dict[str, Any]:
    import torch

    flags = cpu_flags()
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "native_bf16": cpu_supports_bf16(),
        "amx": "amx_bf16" in flags,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


class PeakMemory:
    """Peak resident memory of this process while a block runs (sampled every 20 ms in a thread), in MB."""

    def __init__(self, interval: float = 0.02):
        self.interval, self.peak_mb = interval, 0.0
        self._stop: Any = None

    def _sample(self) -> None:
        import psutil

        proc = psutil.Process()
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, proc.memory_info().rss / 2**20)

    def __enter__(self) -> PeakMemory:
        import threading

        import psutil

        self.peak_mb = psutil.Process().memory_info().rss / 2**20
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        import psutil

        self.peak_mb = max(self.peak_mb, psutil.Process().memory_info().rss / 2**20)
