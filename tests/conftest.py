import sys
from pathlib import Path

import pytest

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
