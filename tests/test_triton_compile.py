"""The training kernel as a GPU runs it, checked without one: Triton compiles it for an
H100/H200 (sm_90) here, with its bundled ptxas. The interpreter runs the kernel's logic
but not the compiler, so this is where a kernel that compiles only when interpreted, or
one that spills to local memory or stops moving rows four floats at a time, shows up."""

import importlib.util
import re
import subprocess
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


def compile_for_gpu(mode: str, dim: int, window: int = 5, negative: int = 5):
    """(PTX, resource usage line from cuobjdump) of the kernel for one shape on sm_90."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from w2v.engines import triton_kernel as tk

    kernel = tk._train_pieces_kernel
    block_w, block_k, block_d, num_warps = tk._blocks(window, negative, dim, mode)
    constants = dict(
        D=dim, WINDOW=window, K=negative, MODE=tk.MODES[mode], SHRINK=True,
        GIVEN_NEGATIVES=False, GIVEN_REACH=False,
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
    with tempfile.TemporaryDirectory() as cache, pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRITON_CACHE_DIR", cache)
        patch.setenv("TRITON_DEFAULT_FP_FUSION", "1")
        compiled = triton.compile(
            source, target=GPUTarget("cuda", HOPPER, 32), options={"num_warps": num_warps}
        )
        cubin = Path(cache) / "kernel.cubin"
        cubin.write_bytes(compiled.asm["cubin"])
        cuobjdump = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
        usage = subprocess.run(
            [str(cuobjdump), "--dump-resource-usage", str(cubin)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    return compiled.asm["ptx"], usage


def resources(usage: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"\b(REG|STACK|LOCAL):(\d+)", usage)}


def instructions(ptx: str, prefix: str) -> set[str]:
    return set(re.findall(rf"\b{re.escape(prefix)}[a-z0-9.]*", ptx))


@pytest.mark.parametrize("mode", ["window", "pair", "cbow"])
@pytest.mark.parametrize("dim", [100, 300])
def test_the_kernel_compiles_for_hopper_without_spilling(mode, dim):
    ptx, usage = compile_for_gpu(mode, dim)
    used = resources(usage)
    assert used["LOCAL"] == 0 and used["STACK"] == 0, usage  # nothing spilled
    assert 0 < used["REG"] <= 255
    # Hogwild: every add to the tables is a relaxed reduction, nothing fenced or returned.
    adds = instructions(ptx, "red.global")
    assert adds and all(
        re.fullmatch(r"red\.global\.gpu\.relaxed\.add(\.v[24])?\.f32", a) for a in adds
    )
    assert not instructions(ptx, "atom.global"), "an add waits for the old value"
    # Rows are read past L1, where the other programs' adds land.
    assert instructions(ptx, "ld.global.cg")


@pytest.mark.parametrize("mode", ["window", "cbow"])
def test_rows_move_four_floats_at_a_time(mode):
    """A window's rows are gathered and added back as 16-byte vectors: with dim 100 (a
    multiple of 4) not one row element goes alone."""
    ptx, _ = compile_for_gpu(mode, 100)
    assert instructions(ptx, "ld.global.cg") == {"ld.global.cg.v4.b32"}
    assert instructions(ptx, "red.global") == {"red.global.gpu.relaxed.add.v4.f32"}
