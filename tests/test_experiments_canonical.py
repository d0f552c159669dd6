"""The canonical studies in experiments/ parse, validate and expand as documented.

A study whose simulator or searcher is not installed/registered yet is skipped
(named in the skip reason) rather than failed.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from archgym.experiments.spec import SpecError, load_spec

FOLDER = Path(__file__).resolve().parents[1] / "experiments"
EXPECTED_TRIALS = {"quickstart": 15, "dram_lottery": 384, "systolic": 150, "dram": 120, "scratchpad": 100}


#: the benchmark suite (suite.yaml) is not a sweep spec; tests/test_bench.py validates it
STUDIES = sorted(p for p in FOLDER.glob("*.yaml") if p.stem != "suite")


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_canonical_study_is_valid(path):
    try:
        spec = load_spec(path)
    except SpecError as exc:
        if "unknown environment" in str(exc) or "unknown agent" in str(exc) or "cannot load" in str(exc):
            pytest.skip(f"not installed yet: {exc}")
        raise
    trials = spec.trials()
    assert spec.study == path.stem
    assert spec.store_path() == str(path.with_suffix(".db"))
    if path.stem in EXPECTED_TRIALS:
        assert len(trials) == EXPECTED_TRIALS[path.stem]
