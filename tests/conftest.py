import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (``make test`` and CI
# are reproducible: a red CI is a change's fault, not the draw's).  To search
# for new counter-examples, run with random draws and more of them:
#   HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/...
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} is absent (it ships beside the repo, not in it)")
    return SHARED_DATA


@pytest.fixture
def toy_registered():
    import archgym
    from archgym import registry
    from archgym.testing import ToySimulator

    if "Toy-v0" not in registry.list_simulators():
        archgym.register("Toy-v0", ToySimulator)
    return "Toy-v0"
