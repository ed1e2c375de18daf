"""The engine registry: which engines exist, where each runs, choosing one.

An engine is known by its :class:`EngineSpec`: where it runs, which losses and optimizers
it trains, and which package it needs. The specs are plain data, so that checking a config
or choosing an engine imports nothing heavy; an engine's module is imported only when it
is used. Adding an engine is one module and one entry in ``ENGINES`` (``--engine auto``
takes the first entry that applies, in this order).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..errors import W2VError, option

if TYPE_CHECKING:
    from ..distributed import World


class Knobs(Protocol):
    """What choosing an engine reads of a TrainConfig."""

    engine: str
    model: str
    loss: str
    optimizer: str
    device: str
    subwords: bool
    tied: bool
    deterministic: bool


DEVICE_NAMES = {"cpu": "the CPU", "cuda": "a CUDA GPU", "mps": "an Apple GPU (MPS)"}


@dataclass(frozen=True)
class EngineSpec:
    name: str
    module: str  # the module that defines it
    cls: str
    devices: tuple[str, ...]
    losses: tuple[str, ...]
    optimizers: tuple[str, ...]
    needs: str | None = None  # a package it runs on, beyond the core ones
    loss_models: tuple[tuple[str, str], ...] = ()  # (loss, model) it does not train
    subwords: bool = True  # trains fastText's model (--subwords)
    tied: bool = True  # trains one shared table (--tied)
    deterministic: bool = True  # has a bit-identical path (--deterministic)
    interpreter: str | None = None  # set to "1", this variable runs it on the CPU, slowly
    min_capability: tuple[int, int] | None = None  # the oldest CUDA GPU it compiles for

    def installed(self) -> bool:
        return self.needs is None or importlib.util.find_spec(self.needs) is not None

    def runs_on(self, device_type: str) -> bool:
        """Whether it trains on this device (a GPU engine also on the CPU through its
        interpreter, when that is switched on; never chosen by --engine auto there)."""
        return device_type in self.devices or (
            device_type == "cpu"
            and self.interpreter is not None
            and os.environ.get(self.interpreter) == "1"
        )

    def lacks(self, config: Knobs) -> str | None:
        """What of ``config`` it does not train, as a message; None when it does."""
        for wanted, has, flag in (
            (config.subwords, self.subwords, "subwords"),
            (config.tied, self.tied, "tied"),
            (config.deterministic, self.deterministic, "deterministic"),
        ):
            if wanted and not has:
                return f"{option('engine', self.name)} does not train with {option(flag)}"
        return None

    def trains(self, loss: str, optimizer: str, model: str = "sg") -> bool:
        return (
            loss in self.losses
            and optimizer in self.optimizers
            and (loss, model) not in self.loss_models
        )

    def where(self) -> str:
        return " or ".join(DEVICE_NAMES.get(d, d) for d in self.devices)


ENGINES: dict[str, EngineSpec] = {
    spec.name: spec
    for spec in (
        EngineSpec(
            "numba",
            "w2v.engines.numba_engine",
            "NumbaEngine",
            devices=("cpu",),
            losses=("ns", "bce"),
            optimizers=("sgd", "adamw"),
            needs="numba",
            loss_models=(("bce", "cbow"),),
        ),
        EngineSpec(
            "triton",
            "w2v.engines.triton_engine",
            "TritonEngine",
            devices=("cuda",),
            losses=("ns",),
            optimizers=("sgd",),
            needs="triton",
            subwords=False,
            tied=False,
            deterministic=False,  # atomic adds land in any order; torch's path is exact
            interpreter="TRITON_INTERPRET",
            min_capability=(7, 0),  # Volta on: ptxas rejects the kernel for Pascal (sm_60)
        ),
        EngineSpec(
            "torch",
            "w2v.engines.torch_engine",
            "TorchEngine",
            devices=("cpu", "cuda", "mps"),
            losses=("ns", "bce"),
            optimizers=("sgd", "adamw", "adamw-dense"),
        ),
    )
}


# Where a GPU shows itself without importing torch (NVIDIA, AMD ROCm, WSL's GPU bridge): with
# none of these, --device auto is the CPU and a CPU engine never pays for importing torch.
GPU_DEVICE_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def _maybe_gpu() -> bool:
    return sys.platform == "darwin" or any(os.path.exists(p) for p in GPU_DEVICE_FILES)


def resolve_device(name: str, world: World | None = None) -> str:
    """Where to train: "cpu", "cuda" (or "cuda:<local rank>" under torchrun) or "mps".

    ``auto`` takes a GPU when torch can use one; torch is asked only where a GPU may be.
    """
    if name == "cpu" or (name == "auto" and not _maybe_gpu()):
        return "cpu"
    import torch

    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps and mps.is_available())
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu"
    elif name == "cuda" and not torch.cuda.is_available():
        raise W2VError(
            f"{option('device', 'cuda')}: no CUDA device is available (torch was built "
            f"{'without' if torch.version.cuda is None else 'with'} CUDA)"
        )
    elif name == "mps" and not mps_ok:
        raise W2VError(f"{option('device', 'mps')}: no MPS device is available")
    if name == "cuda" and world is not None:
        torch.cuda.set_device(world.local_rank)
        return f"cuda:{world.local_rank}"
    return name


def check_config(config: Knobs) -> None:
    """What a config alone rules out for its ``--engine`` (the device is known later)."""
    if config.engine == "auto":
        return
    spec = ENGINES[config.engine]
    cfg = (config.loss, config.optimizer, config.model)
    if not spec.trains(*cfg):
        message = (
            f"{option('engine', spec.name)} trains with {option('loss', '/'.join(spec.losses))} "
            f"and {option('optimizer', '/'.join(spec.optimizers))}"
        )
        if config.loss in spec.losses and config.optimizer in spec.optimizers:
            message = (
                f"{option('engine', spec.name)} does not train {option('loss', config.loss)} "
                f"with {option('model', config.model)}"
            )
        other = next((s for s in ENGINES.values() if s.trains(*cfg)), None)
        if other is not None:
            message += (
                f"; use {option('engine', other.name)} for {option('loss', config.loss)} with "
                f"{option('optimizer', config.optimizer)} and {option('model', config.model)}"
            )
        raise W2VError(message)
    lacking = spec.lacks(config)
    if lacking is not None:
        able = [s for s in ENGINES.values() if s.lacks(config) is None]
        # one for the same device first: a GPU user is pointed to a GPU engine
        other = next((s for s in able if set(s.devices) & set(spec.devices)), able[0])
        raise W2VError(f"{lacking}; use {option('engine', other.name)}")
    if config.device != "auto" and not spec.runs_on(config.device):
        raise W2VError(
            f"{option('engine', spec.name)} trains on {spec.where()}, not "
            f"{option('device', config.device)}{_interpreter_hint(spec)}"
        )


def _interpreter_hint(spec: EngineSpec) -> str:
    if spec.interpreter is None:
        return ""
    return (
        f" (or set {spec.interpreter}=1 to run its kernel on the CPU through "
        f"{spec.needs}'s interpreter, slowly)"
    )


def cuda_capability(device: object) -> tuple[int, int] | None:
    """A CUDA device's compute capability; None where torch sees no CUDA device."""
    import torch

    if not torch.cuda.is_available():
        return None
    major, minor = torch.cuda.get_device_capability(device)  # type: ignore[arg-type]
    return major, minor


def _too_old(spec: EngineSpec, device_type: str, device: object) -> str | None:
    """Why this GPU is older than the engine's kernel allows, or None."""
    if spec.min_capability is None or device_type != "cuda":
        return None
    capability = cuda_capability(device)
    if capability is None or capability >= spec.min_capability:
        return None
    need = ".".join(map(str, spec.min_capability))
    return (
        f"{option('engine', spec.name)} needs a CUDA GPU of compute capability {need} or "
        f"newer, and this one is {'.'.join(map(str, capability))}"
    )


def choose(config: Knobs, device: object) -> EngineSpec:
    """The engine a config asks for on ``device`` (a torch.device or its type's name):
    ``--engine auto`` takes the first that applies (device, loss, optimizer, the GPU's age)
    and is installed."""
    device_type = str(getattr(device, "type", device)).split(":")[0]
    if config.engine != "auto":
        spec = ENGINES[config.engine]
        if not spec.installed():
            raise W2VError(
                f"{option('engine', spec.name)}: {spec.needs} is not installed "
                f"(pip install {spec.needs})"
            )
        if not spec.runs_on(device_type):  # the config rules out the rest: device auto
            fallback = next(s.name for s in ENGINES.values() if device_type in s.devices)
            raise W2VError(
                f"{option('engine', spec.name)} trains on {spec.where()}, and "
                f"{option('device', 'auto')} chose {device_type}; add "
                f"{option('device', spec.devices[0])}, or use {option('engine', fallback)}"
                f"{_interpreter_hint(spec)}"
            )
        too_old = _too_old(spec, device_type, device)
        if too_old is not None:
            raise W2VError(f"{too_old}; use {option('engine', 'torch')}")
        return spec
    for spec in ENGINES.values():
        if (
            device_type in spec.devices
            and spec.trains(config.loss, config.optimizer, config.model)
            and spec.lacks(config) is None
            and spec.installed()
            and _too_old(spec, device_type, device) is None
        ):
            return spec
    raise W2VError(
        f"no engine trains {option('loss', config.loss)} {option('optimizer', config.optimizer)}"
    )


def load(spec: EngineSpec) -> type:
    """The engine's class, a subclass of base.Engine (this imports its module)."""
    module = importlib.import_module(spec.module)
    engine: type = getattr(module, spec.cls)
    return engine


def choose_engine(config: Knobs, device: object) -> str:
    """The name of the engine :func:`choose` picks."""
    return choose(config, device).name
