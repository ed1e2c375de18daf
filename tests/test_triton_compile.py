"""The training kernel as a GPU runs it, checked without one: Triton compiles it for an
H100/H200 (sm_90) here, with its bundled ptxas. The interpreter runs the kernel's logic
but not the compiler, so this is where a kernel that compiles only when interpreted, or
one that spills to local memory or stops moving rows four floats at a time, shows up.

The compiles run in a child process of their own: Triton's interpreter, which the other
kernel tests use in this process, leaves triton.language patched for itself."""

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="triton is not installed"
)

HOPPER = 90
# What a launch passes (triton_engine._launch): tables, chunk ids and draws of 32 bits,
# bounds of 64. Pointers that Triton specializes by alignment get its 16-byte hint, as
# torch's allocations give them at launch.
SIGNATURE = {
    "w_in": "*fp32", "w_out": "*fp32", "ids": "*i32", "piece_start": "*i64",
    "piece_end": "*i64", "sent_start": "*i64", "sent_end": "*i64", "piece_lr": "*fp32",
    "noise_prob": "*fp32", "noise_alias": "*i32", "negatives": "*i32", "reaches": "*i32",
    "loss_out": "*fp32", "examples_out": "*i32", "seed": "i64", "V": "i32",
}  # fmt: skip
# (mode, dim, reuse_rows, window), 5 negatives
SHAPES = [
    (mode, dim, reuse, 5)
    for mode, reuse in [
        ("window", False), ("pair", False), ("cbow", False), ("window", True), ("cbow", True)
    ]
    for dim in (100, 300)
] + [("window", 1000, False, 10), ("window", 300, False, 20)]  # fmt: skip
# the least shared memory a block may have on the GPUs the engine takes (a T4's)
SMALLEST_SHARED = 64 * 1024
# V100, T4, A100, L4 / RTX 4090, B200: each generation the kernel compiles for, at the defaults
OTHER_GPUS = {70: "V100", 75: "T4", 80: "A100", 89: "L4", 100: "B200"}
ELSEWHERE = [
    (mode, 100, False, 5, arch) for arch in OTHER_GPUS for mode in ("window", "pair", "cbow")
]
# what the tests read in the PTX: instructions that start so
PREFIXES = ("red.global", "atom.global", "ld.global.cg", "cp.async")


def compile_for_gpu(
    mode: str, dim: int, reuse_rows: bool, window: int, arch: int = HOPPER, negative: int = 5
):
    """What the tests read of the kernel compiled for one shape for ``arch``: {"usage":
    {"REG", "STACK", "LOCAL"} from cuobjdump, "shared": bytes of shared memory, prefix:
    sorted instructions of the PTX}."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from w2v.engines import triton_kernel as tk

    kernel = tk._train_pieces_kernel
    block_w, block_k, block_d, num_warps = tk._blocks(window, negative, dim, mode, reuse_rows)
    constants = dict(
        D=dim, WINDOW=window, K=negative, MODE=tk.MODES[mode], SHRINK=True,
        GIVEN_NEGATIVES=False, GIVEN_REACH=False, REUSE_ROWS=reuse_rows,
        BLOCK_W=block_w, BLOCK_K=block_k, BLOCK_D=block_d,
    )  # fmt: skip
    aligned = {
        (i,): [["tt.divisibility", 16]]
        for i, name in enumerate(kernel.arg_names)
        if SIGNATURE.get(name, "").startswith("*") and name not in kernel.do_not_specialize
    }
    source = ASTSource(
        fn=kernel,
        signature={**SIGNATURE, **dict.fromkeys(constants, "constexpr")},
        constexprs=constants,
        attrs=aligned,
    )
    compiled = triton.compile(
        source,
        target=GPUTarget("cuda", arch, 32),
        options={"num_warps": num_warps, "num_stages": tk.NUM_STAGES},
    )
    with tempfile.TemporaryDirectory() as tmp:
        cubin = Path(tmp) / "kernel.cubin"
        cubin.write_bytes(compiled.asm["cubin"])
        cuobjdump = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
        usage = subprocess.run(
            [str(cuobjdump), "--dump-resource-usage", str(cubin)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    ptx = compiled.asm["ptx"]
    return {
        "usage": {k: int(v) for k, v in re.findall(r"\b(REG|STACK|LOCAL):(\d+)", usage)},
        "shared": compiled.metadata.shared,
        **{p: sorted(set(re.findall(rf"\b{re.escape(p)}[a-z0-9.]*", ptx))) for p in PREFIXES},
    }


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[tuple, dict]:
    cache = tmp_path_factory.mktemp("triton-cache")
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env.update(TRITON_CACHE_DIR=str(cache), TRITON_DEFAULT_FP_FUSION="1")
    child = subprocess.run([sys.executable, __file__], capture_output=True, text=True, env=env)
    assert child.returncode == 0, child.stderr[-3000:]
    return {tuple(shape): got for shape, got in json.loads(child.stdout.splitlines()[-1])}


@pytest.mark.parametrize(("mode", "dim", "reuse_rows", "window"), SHAPES)
def test_the_kernel_compiles_for_hopper_without_spilling(compiled, mode, dim, reuse_rows, window):
    got = compiled[mode, dim, reuse_rows, window]
    used = got["usage"]
    assert used["LOCAL"] == 0 and used["STACK"] == 0, used  # nothing spilled
    assert 0 < used["REG"] <= 255
    # Hogwild: every add to the tables is a relaxed reduction, nothing fenced or returned.
    adds = got["red.global"]
    assert adds and all(
        re.fullmatch(r"red\.global\.gpu\.relaxed\.add(\.v[24])?\.f32", a) for a in adds
    )
    assert not got["atom.global"], "an add waits for the old value"
    # Rows are read past L1, where the other programs' adds land, and in the program's
    # order: no copy is started ahead (a window reads what the window before it added).
    assert got["ld.global.cg"] and not got["cp.async"]


@pytest.mark.parametrize("mode", ["window", "cbow"])
@pytest.mark.parametrize("reuse_rows", [False, True])
def test_rows_move_four_floats_at_a_time(compiled, mode, reuse_rows):
    """A window's rows are gathered and added back as 16-byte vectors: with dim 100 (a
    multiple of 4) not one row element goes alone."""
    got = compiled[mode, 100, reuse_rows, 5]
    assert got["ld.global.cg"] == ["ld.global.cg.v4.b32"]
    assert got["red.global"] == ["red.global.gpu.relaxed.add.v4.f32"]


@pytest.mark.parametrize(("mode", "dim", "window"), [(m, d, w) for m, d, r, w in SHAPES if not r])
def test_its_tiles_fit_the_shared_memory_of_any_gpu_it_runs_on(compiled, mode, dim, window):
    """Rows wider than a tile go through skip-gram's window in slices: at dim 300 and 1000,
    and with a window of 20, the kernel still fits a T4's 64 KB."""
    assert compiled[mode, dim, False, window]["shared"] <= SMALLEST_SHARED


@pytest.mark.parametrize(
    ("mode", "arch"), [(m, a) for m, _, _, _, a in ELSEWHERE], ids=lambda x: OTHER_GPUS.get(x, x)
)
def test_it_compiles_for_the_other_gpu_generations_too(compiled, mode, arch):
    got = compiled[mode, 100, False, 5, arch]
    assert got["usage"]["LOCAL"] == 0 and got["usage"]["STACK"] == 0, got["usage"]
    assert got["red.global"] and not got["atom.global"] and not got["cp.async"]
    assert got["shared"] <= SMALLEST_SHARED


if __name__ == "__main__":  # the fixture's child: every shape, one JSON line
    print(json.dumps([[shape, compile_for_gpu(*shape)] for shape in SHAPES + ELSEWHERE]))
