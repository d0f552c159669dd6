"""The one Pareto module (archgym.pareto) against brute force, with its duplicate-point rule."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archgym.pareto import crowding_distance, dominates, hypervolume, non_dominated_sort, nondominated


def brute_front(p: np.ndarray) -> list[int]:
    """Indices of the front by definition: not dominated by any row, first of identical rows."""
    keep = []
    for i, a in enumerate(p):
        if any(dominates(b, a) for b in p):
            continue
        if any(np.array_equal(p[j], a) for j in keep):
            continue
        keep.append(i)
    return keep


points = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=30)


@settings(max_examples=80, deadline=None)
@given(points, st.sampled_from([2, 3]))
def test_front_equals_brute_force_with_the_first_of_duplicates(rows, k):
    p = np.array(rows, dtype=float)[:, :k]
    assert np.flatnonzero(nondominated(p)).tolist() == brute_front(p)


def test_duplicate_points_keep_only_the_first():
    p = np.array([[1, 2], [2, 1], [1, 2], [0, 0], [2, 1]], dtype=float)
    assert nondominated(p).tolist() == [True, True, False, False, False]
    assert [sorted(f.tolist()) for f in non_dominated_sort(p)] == [[0, 1, 2, 4], [3]]  # ranks: copies share one


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=12))
def test_hypervolume_equals_counted_unit_cells(rows):
    """On an integer grid the dominated area is the number of unit cells some point covers."""
    p = np.array(rows, dtype=float)
    cells = sum(any(x < a and y < b for a, b in p) for x, y in itertools.product(range(4), range(4)))
    assert hypervolume(p) == pytest.approx(cells)


def test_hypervolume_in_three_dimensions_and_against_a_reference():
    assert hypervolume(np.array([[1.0, 1.0, 1.0]])) == pytest.approx(1.0)
    assert hypervolume(np.array([[2.0, 1.0, 1.0], [1.0, 2.0, 1.0]])) == pytest.approx(3.0)
    assert hypervolume(np.array([[2.0, 2.0]]), ref=1.0) == pytest.approx(1.0)
    assert hypervolume(np.array([[-1.0, 5.0]])) == 0.0  # not better than the reference everywhere


def test_crowding_distance_boundaries_are_infinite():
    cd = crowding_distance(np.array([[3, 1], [1, 3], [2, 2]], dtype=float))
    assert np.isinf(cd[0]) and np.isinf(cd[1]) and cd[2] == pytest.approx(2.0)
