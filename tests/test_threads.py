"""Threads: entry points run one math thread; `import archgym` and library calls change nothing for good."""
import json
import subprocess
import sys

import pytest

CLEAN = ("import os\n"
         "for v in ('OMP_NUM_THREADS','OPENBLAS_NUM_THREADS','MKL_NUM_THREADS'): os.environ.pop(v, None)\n")


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", CLEAN + code], capture_output=True, text=True, check=True).stdout


def test_import_archgym_changes_no_process_wide_setting():
    probe = ("import numpy as np\n"
             "from threadpoolctl import threadpool_info\n"
             "print(json.dumps({'env_changed': dict(os.environ) != before,\n"
             "                  'threads': max(p['num_threads'] for p in threadpool_info())}))\n")
    base = json.loads(_run("import os, json\nbefore = dict(os.environ)\n" + probe))
    got = json.loads(_run("import os, json\nbefore = dict(os.environ)\n"
                          "import archgym, archgym.agents, archgym.experiments, archgym.simulators.systolic\n" + probe))
    assert got == base  # the same environment variables, the same BLAS pool as without archgym


def test_an_entry_point_runs_one_math_thread():
    out = _run("from archgym.threads import limit_threads\n"
               "limit_threads(1)\n"
               "import os, numpy as np\n"
               "from threadpoolctl import threadpool_info\n"
               "print(os.environ['OMP_NUM_THREADS'], max(p['num_threads'] for p in threadpool_info()))\n")
    assert out.split() == ["1", "1"]


def test_worker_process_has_one_math_thread():
    out = _run("from archgym.experiments.sweep.worker import init_worker\n"
               "import numpy as np\n"
               "init_worker()\n"
               "from threadpoolctl import threadpool_info\n"
               "print(max(p['num_threads'] for p in threadpool_info()))\n")
    assert out.split() == ["1"]


def test_library_math_is_capped_only_while_it_runs():
    out = _run("import numpy as np\n"
               "from threadpoolctl import threadpool_info\n"
               "from archgym.threads import math_threads\n"
               "before = max(p['num_threads'] for p in threadpool_info())\n"
               "with math_threads(1):\n"
               "    inside = max(p['num_threads'] for p in threadpool_info())\n"
               "after = max(p['num_threads'] for p in threadpool_info())\n"
               "print(inside, after == before)\n")
    assert out.split() == ["1", "True"]


def test_limit_threads_caps_torch_too():
    pytest.importorskip("torch")
    out = _run("import archgym, torch\n"
               "from archgym.threads import limit_threads\n"
               "limit_threads(1)\n"
               "print(torch.get_num_threads())\n")
    assert out.split() == ["1"]


def test_import_archgym_does_not_import_torch():
    out = subprocess.run([sys.executable, "-c", "import archgym, sys; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
