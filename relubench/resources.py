"""What this machine can hold: refuse a request whose arrays would not fit, before allocating them."""

from __future__ import annotations

import os

from relubench.errors import MemoryRequirementError


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable on Linux; else the physical memory), never below 1 GiB, and
    never above this process's data-segment limit (RLIMIT_DATA: a sweep case's memory cap) less what it holds."""
    have = _machine_memory()
    try:
        import resource

        cap = resource.getrlimit(resource.RLIMIT_DATA)[0]
        if cap != resource.RLIM_INFINITY:
            used = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # peak resident set: an upper bound
            have = min(have, max(cap - used, 0))
    except (ImportError, ValueError, OSError):
        pass
    return max(have, 1 << 30)


def _machine_memory() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 34


def require_memory(nbytes: float, what: str) -> None:
    """MemoryRequirementError (an InputError) naming the estimate when ``nbytes`` exceed the memory available
    here."""
    have = available_memory()
    if nbytes > have:
        raise MemoryRequirementError(
            f"{what} needs about {nbytes / 2**30:.3g} GiB; this machine has {have / 2**30:.3g} GiB available"
        )
