"""The canonical studies in experiments/studies/ parse, validate and expand as documented.

A study whose simulator or searcher is not installed/registered yet is skipped
(named in the skip reason) rather than failed.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from archgym.experiments.sweep import load_spec, load_spec_plugins
from archgym.experiments.sweep.spec import SpecError

FOLDER = Path(__file__).resolve().parents[1] / "experiments" / "studies"
EXPECTED_TRIALS = {"quickstart": 15, "dram_lottery": 384, "systolic": 150, "dram": 120, "scratchpad": 100}


STUDIES = sorted(FOLDER.glob("*.yaml"))


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_canonical_study_is_valid(path):
    try:
        spec = load_spec(path)
        load_spec_plugins(spec)
        spec.resolve()
    except SpecError as exc:
        if "unknown environment" in str(exc) or "unknown agent" in str(exc) or "cannot load" in str(exc):
            pytest.skip(f"not installed yet: {exc}")
        raise
    trials = spec.trials()
    assert spec.study == path.stem
    assert spec.store_path() == str(path.with_suffix(".db"))
    if path.stem in EXPECTED_TRIALS:
        assert len(trials) == EXPECTED_TRIALS[path.stem]
