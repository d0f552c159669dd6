"""A CLI call on DRAM-v0 loads only what it needs (start-up time; figures in
experiments/benchmarks/results/dram.json, ``startup``)."""
import json
import subprocess
import sys

HEAVY = ("gymnasium", "pandas", "matplotlib", "sklearn", "torch", "optuna", "dask")


def test_cli_evaluate_does_not_import_heavy_packages():
    code = (
        "import runpy, sys\n"
        "sys.argv = ['archgym', 'evaluate', 'DRAM-v0', '--workload', 'single_read', '--json', '--config', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('archgym.cli', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)\n"
    )
    from archgym.simulators.dram import DRAMSimulator
    cfg = json.dumps(DRAMSimulator().reference_config())
    out = subprocess.run([sys.executable, "-c", code, cfg], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total_time_ns"] > 0
    assert out.stderr.strip().splitlines()[-1] == "[]"
