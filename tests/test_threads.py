"""One math thread per process, checked in a fresh worker process."""
import subprocess
import sys


def test_worker_process_has_one_math_thread():
    code = (
        "import os\n"
        "for v in ('OMP_NUM_THREADS','OPENBLAS_NUM_THREADS','MKL_NUM_THREADS'): os.environ.pop(v, None)\n"
        "import archgym\n"
        "import numpy as np\n"
        "from threadpoolctl import threadpool_info\n"
        "pools = threadpool_info()\n"
        "print(os.environ['OMP_NUM_THREADS'], os.environ['OPENBLAS_NUM_THREADS'], max(p['num_threads'] for p in pools))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1", "1"]


def test_limit_threads_caps_torch_too():
    code = (
        "import archgym, torch\n"
        "from archgym._threads import limit_threads\n"
        "limit_threads(1)\n"
        "print(torch.get_num_threads())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if "No module named 'torch'" in out.stderr:
        import pytest
        pytest.skip("torch not installed")
    assert out.stdout.split() == ["1"]


def test_import_archgym_does_not_import_torch():
    out = subprocess.run([sys.executable, "-c", "import archgym, sys; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
