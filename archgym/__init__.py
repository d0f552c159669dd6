"""archgym: a gym for hardware-accelerator design-space exploration."""
from . import _threads  # noqa: F401  (must run before numpy loads)
__version__ = "0.1.0"
