"""The sweep engine: spec -> trials -> executor -> results store (``archgym sweep``).

* :mod:`.spec` -- sweep specs (YAML or dict): shape, plugins, resolution, trials;
* :mod:`.runner` -- :func:`run_sweep`, the resumable driver that alone writes the store;
* :mod:`.executors` -- in the driver, a local process pool (default), or Dask;
* :mod:`.worker` -- process setup and the unit of work (:func:`archgym.pipeline.run_trial`).
"""
from .runner import failure_lines, failure_reason, plan, prepare, run_sweep
from .spec import SpecError, SweepSpec, check_problems, load_spec, load_spec_plugins, parse_spec

__all__ = ["run_sweep", "prepare", "plan", "failure_lines", "failure_reason", "SweepSpec", "SpecError", "load_spec",
           "parse_spec", "load_spec_plugins", "check_problems"]
