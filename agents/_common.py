"""Compatibility re-exports: this module was split by concern into
:mod:`.moves` (index-vector moves), :mod:`.pareto` (Pareto tools) and
:mod:`.population` (:class:`QueuedSearch`, the population-searcher base);
:class:`SpaceEncoder` and :func:`ordered_mask` live in :mod:`archgym.features`.
Import from those modules in new code."""
from archgym.features import SpaceEncoder, ordered_mask  # noqa: F401

from .moves import index_keys, mutate_genes, mutate_indices, mutate_rows, mutate_value  # noqa: F401
from .pareto import (ParetoFrontMixin, crowding_distance, dominates, non_dominated_sort,  # noqa: F401
                     objective_names, pareto_front_frame, pareto_mask, result_vector)
from .population import QueuedSearch  # noqa: F401
