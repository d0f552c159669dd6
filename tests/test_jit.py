"""archgym.jit: lazy, cached numba kernels that never fall back silently (one line on stderr while compiling)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from archgym import jit

# a two-module kernel: the entry calls one helper by name and one as a module attribute
SAMPLE = {
    "jitsample/__init__.py": "",
    "jitsample/helpers.py": """
        def scale(x, k):
            return x * k

        def offset(x):
            return x + 1
    """,
    "jitsample/core.py": """
        import numpy as np
        from archgym.jit import Kernel
        from . import helpers
        from .helpers import scale

        def total(a, k):
            s = 0
            for i in range(a.shape[0]):
                s += helpers.offset(scale(a[i], k))
            return s

        KERNEL = Kernel(total, label="the sample kernel", example=lambda: (np.zeros(2, np.int64), 3))
    """,
}
RUN = ("import sys, numpy as np\n"
       "from jitsample.core import KERNEL\n"
       "print(KERNEL.compiled()(np.arange(5, dtype=np.int64), 2))\n"
       "print('numba' in sys.modules)\n")


def _write_sample(root, **replace):
    for rel, text in SAMPLE.items():
        text = textwrap.dedent(text)
        for a, b in replace.items():
            text = text.replace(a, b)
        path = root / rel
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)


def _run(code, cwd, **env):
    full = {**os.environ, "PYTHONPATH": str(cwd), **env}
    for k in ("ARCHGYM_QUIET", "ARCHGYM_NOJIT"):
        if k not in env:
            full.pop(k, None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=full, timeout=600)
    assert r.returncode == 0, r.stderr
    return r


def test_importing_archgym_and_the_simulators_imports_no_numba_and_sets_nothing():
    code = ("import os, sys\n"
            "import archgym\n"
            "before = dict(os.environ)\n"
            "import archgym.jit, archgym.simulators.dram, archgym.simulators.systolic, archgym.cost_models.forest\n"
            "print('numba' in sys.modules, dict(os.environ) == before)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["False", "True"]


def test_notice_once_on_a_cold_cache_none_on_a_warm_one_none_when_quiet(tmp_path):
    _write_sample(tmp_path)
    cache = str(tmp_path / "cache")
    cold = _run(RUN, tmp_path, NUMBA_CACHE_DIR=cache)
    assert cold.stdout.split() == ["25", "True"]             # sum of 2 i + 1 over i < 5
    lines = cold.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archgym: compiling the sample kernel for this machine (once, ")
    assert f"cached in {cache}" in lines[0]
    warm = _run(RUN, tmp_path, NUMBA_CACHE_DIR=cache)
    assert warm.stdout.split() == ["25", "True"] and warm.stderr == ""
    quiet = _run(RUN, tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "other"), ARCHGYM_QUIET="1")
    assert quiet.stdout.split() == ["25", "True"] and quiet.stderr == ""


def test_editing_a_callee_module_invalidates_the_cache(tmp_path):
    # numba alone notices edits to the entry's file only; the kernel's cache folder hashes all its files
    _write_sample(tmp_path)
    cache = str(tmp_path / "cache")
    assert _run(RUN, tmp_path, NUMBA_CACHE_DIR=cache).stdout.split()[0] == "25"
    _write_sample(tmp_path, **{"return x + 1": "return x + 2"})
    r = _run(RUN, tmp_path, NUMBA_CACHE_DIR=cache)
    assert r.stdout.split()[0] == "30" and "archgym: compiling the sample kernel" in r.stderr


def test_nojit_env_var_runs_the_pure_path_without_numba(tmp_path):
    _write_sample(tmp_path)
    code = ("import sys, numpy as np\n"
            "from jitsample.core import KERNEL\n"
            "print(KERNEL.select()(np.arange(5, dtype=np.int64), 2))\n"
            "try:\n"
            "    KERNEL.compiled()\n"
            "except RuntimeError as e:\n"
            "    print(type(e).__name__)\n"
            "print('numba' in sys.modules)\n")
    r = _run(code, tmp_path, ARCHGYM_NOJIT="1")
    assert r.stdout.split() == ["25", "JitError", "False"] and r.stderr == ""


def test_a_failing_compile_raises_once_and_names_the_kernel_and_the_way_out(monkeypatch):
    monkeypatch.delenv("ARCHGYM_NOJIT", raising=False)

    def uses_a_dict(a):
        return {"x": object()}["x"]                         # objects are outside numba's subset

    k = jit.Kernel(uses_a_dict, label="a broken kernel", example=lambda: (np.zeros(1),))
    with pytest.raises(jit.JitError) as first:
        k.compiled()
    msg = str(first.value)
    assert "numba failed to compile a broken kernel" in msg and "uses_a_dict" in msg
    assert "ARCHGYM_NOJIT=1" in msg and "TypingError" in msg
    with pytest.raises(jit.JitError) as again:                 # remembered, not retried
        k.select(None)
    assert again.value is first.value
    assert k.select(False) is uses_a_dict                       # the pure path stays reachable


def test_cache_root_is_the_users_choice_or_the_user_cache_never_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere/else")
    assert jit.cache_root(jit.__file__) == "/somewhere/else"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    module = tmp_path / "pkg" / "mod.py"
    module.parent.mkdir()
    module.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert jit.cache_root(str(module)) == str(tmp_path / "xdg" / "archgym" / "numba")


def test_dram_kernel_cold_compile_one_notice_one_signature_each_and_parseable_json(tmp_path):
    """The DRAM kernel on an empty cache: the notice names it; every part of the core is
    compiled for exactly one signature (no literal re-specialisation); then a CLI call with
    the warm cache prints nothing on stderr and parseable JSON on stdout, and a process
    running the kernel does not import numba."""
    cache = str(tmp_path / "cache")
    code = ("import json\n"
            "from archgym.simulators.dram.controller import KERNEL\n"
            "KERNEL.compiled()\n"
            "print(json.dumps(KERNEL.specializations()))\n")
    r = _run(code, tmp_path, NUMBA_CACHE_DIR=cache)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archgym: compiling the DRAM controller kernel for this machine")
    counts = json.loads(r.stdout)
    assert len(counts) > 20 and set(counts.values()) == {1}, counts
    from archgym.simulators.dram import DRAMSimulator
    cli = [sys.executable, "-m", "archgym.cli", "evaluate", "DRAM-v0", "--workload", "stream", "--json", "--config",
           json.dumps(DRAMSimulator().reference_config())]
    out = subprocess.run(cli, capture_output=True, text=True, env={**os.environ, "NUMBA_CACHE_DIR": cache},
                         timeout=600)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert json.loads(out.stdout)["total_time_ns"] > 0
    warm = _run("import sys\nfrom archgym.simulators.dram import simulate\n"
                "print(simulate('stream', {}).total_time_ns, 'numba' in sys.modules)\n", tmp_path,
                NUMBA_CACHE_DIR=cache)
    assert warm.stdout.split() == ["50025.0", "False"] and warm.stderr == ""   # native code, no numba


# a native kernel (``returns=``): a 2-d array, a 1-d float array, a bool and an int
NATIVE = {
    "nativesample/__init__.py": "",
    "nativesample/core.py": """
        import numpy as np
        from archgym.jit import Kernel

        def fill(grid, weights, flip, k):
            s = 0.0
            for i in range(grid.shape[0]):
                for j in range(grid.shape[1]):
                    grid[i, j] = (i * grid.shape[1] + j) * k
                    s += grid[i, j] * weights[j]
            return -s if flip else s

        KERNEL = Kernel(fill, label="the native sample kernel", returns="float64",
                        example=lambda: (np.zeros((2, 3), np.int64), np.ones(3), False, 1))
    """,
}
NATIVE_RUN = ("import sys, numpy as np\n"
              "from nativesample.core import KERNEL\n"
              "g = np.zeros((3, 4), np.int64)\n"
              "print(KERNEL.compiled()(g, np.arange(4.0), True, 2), int(g.sum()))\n"
              "print('numba' in sys.modules)\n")


def _write(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_native_kernel_loads_without_numba_and_checks_its_arguments(tmp_path):
    """Compiled once (one notice), a native kernel's later processes load its machine code
    without importing numba and give the same result; arguments numba would refuse are a
    TypeError; a damaged object is compiled again."""
    _write(tmp_path, NATIVE)
    cache = tmp_path / "cache"
    expected = str(-sum((i * 4 + j) * 2 * j for i in range(3) for j in range(4)))
    cold = _run(NATIVE_RUN, tmp_path, NUMBA_CACHE_DIR=str(cache))
    assert cold.stdout.split() == [f"{expected}.0", "132", "True"]
    assert cold.stderr.startswith("archgym: compiling the native sample kernel for this machine")
    warm = _run(NATIVE_RUN, tmp_path, NUMBA_CACHE_DIR=str(cache))
    assert warm.stdout.split() == [f"{expected}.0", "132", "False"] and warm.stderr == ""
    bad = ("import numpy as np\n"
           "from nativesample.core import KERNEL\n"
           "k = KERNEL.compiled()\n"
           "for args in [(np.zeros((3, 4), np.int32), np.ones(4), True, 2),\n"
           "             (np.zeros((4, 3), np.int64).T, np.ones(4), True, 2),\n"
           "             (np.zeros(3, np.int64), np.ones(4), True, 2), (np.zeros((3, 4), np.int64),)]:\n"
           "    try:\n"
           "        k(*args)\n"
           "    except TypeError as e:\n"
           "        print('TypeError')\n")
    assert _run(bad, tmp_path, NUMBA_CACHE_DIR=str(cache)).stdout.split() == ["TypeError"] * 4
    [obj] = list(cache.rglob("native-*.o"))
    obj.write_bytes(obj.read_bytes()[:-8] + b"damaged!")
    again = _run(NATIVE_RUN, tmp_path, NUMBA_CACHE_DIR=str(cache))
    assert again.stdout.split()[0] == f"{expected}.0" and "compiling the native sample kernel" in again.stderr
    assert _run(NATIVE_RUN, tmp_path, NUMBA_CACHE_DIR=str(cache)).stdout.split()[2] == "False"
