"""Where a first-order backend computes: the array library, the device and the precision (a :class:`Placement`).

Backends that declare ``"cuda"`` among their ``Capabilities.devices`` take the solver options ``device``
(``cpu``, default, or ``cuda``), ``array_library`` (``numpy``, the CPU default; ``torch``, the CUDA default;
``array-api-strict``, the standard's reference library, CPU only: what CI uses to prove the generic code path
has no numpy-only call) and ``precision`` (``double``, default, or ``single``). They are written once against
the array API standard (:mod:`relubench.problem.arrays`); the placement only decides where the arrays live.

Why torch for CUDA: its PyPI wheel carries its own CUDA libraries (no toolkit to match), it reports the peak GPU
memory of a run (``torch.cuda.max_memory_allocated``; asv's ``peakmem`` sees host memory only), and it is what
the peer library scnn runs on. It is an optional extra (``pip install 'relubench[gpu]'``): without it, or without
a visible GPU, a CUDA run reports "unavailable: no CUDA device" and is skipped, never failed.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from relubench.errors import InputError
from relubench.problem.arrays import Array
from relubench.problem.instance import ArrayView, Problem, view
from relubench.resources import require_memory

ARRAY_LIBRARIES = {"cpu": ("numpy", "torch", "array-api-strict"), "cuda": ("torch",)}
PRECISIONS = ("double", "single")


@cache
def cuda_status() -> tuple[bool, str]:
    """(True, GPU name) when torch sees a CUDA device, else (False, why not). Imports torch only if installed."""
    if importlib.util.find_spec("torch") is None:
        return False, "no CUDA device (torch is not installed: pip install 'relubench[gpu]')"
    try:
        torch = importlib.import_module("torch")
        if not torch.cuda.is_available():
            return False, "no CUDA device"
        return True, str(torch.cuda.get_device_name(0))
    except Exception as exc:  # a broken driver or wheel is "no device", with the reason
        return False, f"no CUDA device ({type(exc).__name__}: {exc})"


def check_placement(
    options: dict[str, Any], devices: tuple[str, ...], precisions: tuple[str, ...] = PRECISIONS
) -> tuple[str, str, str]:
    """(device, array library, precision) from a backend's options, or InputError naming the bad one (``precisions``:
    the values the backend's option precision takes; "double" is the default)."""
    device = options.get("device", "cpu")
    if device not in devices:
        raise InputError(f"device {device!r} is not one this backend runs on (it runs on: {', '.join(devices)})")
    library = options.get("array_library", "numpy" if device == "cpu" else "torch")
    if library not in ARRAY_LIBRARIES[device]:
        raise InputError(
            f"array_library {library!r} does not run on {device} (choose: {', '.join(ARRAY_LIBRARIES[device])})"
        )
    precision = options.get("precision", "double")
    if precision not in precisions:
        raise InputError(f"precision must be one of {', '.join(precisions)}, got {precision!r}")
    return device, library, precision


@dataclass(frozen=True)
class Placement:
    """An array library on one device at one precision: moves arrays there and back, measures peak memory."""

    device: str
    library: str
    precision: str
    xp: ModuleType
    _lib: ModuleType
    _dtype: Any
    _device: Any

    def asarray(self, a: Any) -> Array:
        """``a`` (numpy or scalar) as an array of this placement's library, device and precision."""
        if self.library == "torch":
            return self._lib.tensor(np.asarray(a), dtype=self._dtype, device=self._device)  # a copy
        return self.xp.asarray(np.asarray(a, dtype=np.float64), dtype=self._dtype)

    def indices(self, idx: np.ndarray) -> Array:
        """Integer row indices (numpy) as an index array of this library and device (for ``xp.take``)."""
        if self.library == "torch":
            return self._lib.as_tensor(np.asarray(idx, dtype=np.int64), device=self._device)
        return self.xp.asarray(np.asarray(idx, dtype=np.int64))

    def zeros(self, shape: tuple[int, ...]) -> Array:
        if self.library == "torch":
            return self._lib.zeros(shape, dtype=self._dtype, device=self._device)
        return self.xp.zeros(shape, dtype=self._dtype)

    def to_numpy(self, a: Array) -> np.ndarray:
        """A float64 numpy copy of ``a`` (from any device)."""
        if self.library == "torch":
            return a.detach().cpu().numpy().astype(np.float64)
        return np.array(a, dtype=np.float64)

    def view(self, problem: Problem) -> Problem | ArrayView:
        """The problem's arrays here: the Problem itself on numpy in double precision (no copy)."""
        if self.library == "numpy" and self.precision == "double":
            return problem
        return view(problem, self.asarray)

    def checker(self, problem: Problem) -> tuple[Problem | ArrayView, Callable[[Array], Array]]:
        """(the problem's arrays in double precision here, a cast of arrays to double): certified gaps are
        computed in double precision also in a single-precision run (in float32 they round to 0 near the optimum)."""
        if self.precision == "double":
            return self.view(problem), lambda a: a
        double = dataclasses.replace(self, precision="double", _dtype=_double_dtype(self))
        return double.view(problem), lambda a: self.xp.astype(a, double._dtype)

    def synchronize(self) -> None:
        """Wait for queued device work (CUDA kernels run asynchronously), so that times are honest."""
        if self.device == "cuda":
            self._lib.cuda.synchronize()

    def reset_peak_memory(self) -> None:
        if self.device == "cuda":
            self._lib.cuda.reset_peak_memory_stats()

    def require_memory(self, nbytes: float, what: str) -> None:
        """InputError naming the estimate when ``nbytes`` exceed the memory free where the arrays live (the GPU's
        free memory on CUDA, the host's available memory otherwise)."""
        if self.device != "cuda":
            require_memory(nbytes, what)
            return
        free = int(self._lib.cuda.mem_get_info()[0])
        if nbytes > free:
            raise InputError(f"{what} needs about {nbytes / 2**30:.3g} GiB; the GPU has {free / 2**30:.3g} GiB free")

    def peak_memory_bytes(self) -> int | None:
        """Peak device memory allocated since the last reset (None on the CPU: asv's peakmem covers the host)."""
        if self.device == "cuda":
            return int(self._lib.cuda.max_memory_allocated())
        return None


def _double_dtype(where: Placement) -> Any:
    return {"numpy": np.float64}.get(where.library) or where._lib.float64


def placement(device: str = "cpu", library: str | None = None, precision: str = "double") -> Placement:
    """The placement of those names (validated by :func:`check_placement`). A CUDA placement needs a visible GPU
    (check :func:`cuda_status` first; here it is an InputError)."""
    opts = {"device": device, "precision": precision} | ({} if library is None else {"array_library": library})
    device, library, precision = check_placement(opts, tuple(ARRAY_LIBRARIES))
    if device == "cuda":
        ok, why = cuda_status()
        if not ok:
            raise InputError(f"unavailable: {why}")
    single = precision == "single"
    if library == "numpy":
        import array_api_compat.numpy as xp

        return Placement(device, library, precision, xp, np, np.float32 if single else np.float64, None)
    if library == "array-api-strict":
        if importlib.util.find_spec("array_api_strict") is None:
            raise InputError("array_library 'array-api-strict' needs: pip install array-api-strict")
        lib = importlib.import_module("array_api_strict")
        return Placement(device, library, precision, lib, lib, lib.float32 if single else lib.float64, None)
    if importlib.util.find_spec("torch") is None:
        raise InputError("array_library 'torch' needs torch: pip install 'relubench[gpu]'")
    torch = importlib.import_module("torch")
    import array_api_compat.torch as xp

    dtype = torch.float32 if single else torch.float64
    return Placement(device, library, precision, xp, torch, dtype, torch.device(device))
