"""What this machine can hold: refuse a request whose arrays would not fit, before allocating them."""

from __future__ import annotations

import os

from relubench.errors import InputError


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable on Linux; else the physical memory), never below 1 GiB."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return max(int(line.split()[1]) * 1024, 1 << 30)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return max(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), 1 << 30)
    except (ValueError, OSError, AttributeError):
        return 1 << 34


def require_memory(nbytes: float, what: str) -> None:
    """InputError naming the estimate when ``nbytes`` exceed the memory available here."""
    have = available_memory()
    if nbytes > have:
        raise InputError(
            f"{what} needs about {nbytes / 2**30:.3g} GiB; this machine has {have / 2**30:.3g} GiB available"
        )
