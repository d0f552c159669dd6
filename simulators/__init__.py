"""Built-in simulators (installed as ``archgym.simulators``); each sub-package is self-contained and imports only the core."""
