import numpy as np
import pytest
from scipy.optimize import linprog

from relubench.errors import InputError
from relubench.problem.patterns import enumerate_patterns, pattern_count_bound, sample_patterns


def as_set(M):
    return {col.tobytes() for col in np.asarray(M, dtype=bool).T}


@pytest.mark.parametrize("n,d", [(10, 1), (10, 2), (12, 3), (15, 4), (30, 3)])
def test_enumeration_counts_cells_of_generic_arrangements(n, d):
    # generic rows: the number of cells of a central arrangement is exactly 2 sum_{k<d} C(n-1, k)
    X = np.random.default_rng(n * d).standard_normal((n, d))
    M = enumerate_patterns(X)
    assert M.shape == (n, pattern_count_bound(n, d))
    assert len(as_set(M)) == M.shape[1]
    assert M.any(axis=0).all()


def cell_margin(X, mask):
    """max t s.t. s_j x_j^T g >= t for all rows, |g|_inf <= 1 (an LP); > 0 iff the pattern is an open cell."""
    s = np.where(mask, 1.0, -1.0)
    d = X.shape[1]
    A = np.c_[-(s[:, None] * X), np.ones(len(s))]
    out = linprog(c=np.r_[np.zeros(d), -1.0], A_ub=A, b_ub=np.zeros(len(s)), bounds=[(-1, 1)] * d + [(None, 1)])
    return -out.fun


def brute_force(X, draws=400_000, seed=1):
    # dense sampling of directions, including a few on hyperplanes (ties count as active: >= 0)
    return sample_patterns(X, 10**6, seed=seed, max_draws=draws)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["duplicates_and_zero_row", "parallel_rows_with_bias", "bias_d3"])
def test_enumeration_matches_dense_sampling_on_degenerate_data(case):
    rng = np.random.default_rng(7)
    if case == "duplicates_and_zero_row":
        X = rng.standard_normal((6, 2))
        X = np.vstack([X, X[:2], np.zeros((1, 2))])
    elif case == "parallel_rows_with_bias":
        X = np.c_[rng.standard_normal(8), np.ones(8)]
        X = np.vstack([X, 2 * X])
    else:
        X = np.c_[rng.standard_normal((10, 2)), np.ones(10)]
        X = np.vstack([X, X[:3]])
    M = enumerate_patterns(X)
    S = brute_force(X, draws=1_000_000)
    assert as_set(S) <= as_set(M)  # nothing sampled is missing
    nonzero = np.linalg.norm(X, axis=1) > 0
    for m in M.T:  # every enumerated pattern is an open cell: some g has margin > 0 on every nonzero row
        assert cell_margin(X[nonzero], m[nonzero]) > 1e-6
    if case == "duplicates_and_zero_row":
        assert M[-1].all()  # a zero row is active in every pattern (0 >= 0)


def test_enumeration_refuses_politely_over_the_limit():
    X = np.random.default_rng(0).standard_normal((200, 6))
    with pytest.raises(InputError, match="sample patterns instead"):
        enumerate_patterns(X, max_patterns=10_000)


def test_sampling_is_seeded_distinct_and_nonzero():
    X = np.random.default_rng(0).standard_normal((40, 3))
    A = sample_patterns(X, 40, seed=3)
    B = sample_patterns(X, 40, seed=3)
    C = sample_patterns(X, 40, seed=4)
    assert A.shape == (40, 40) and A.dtype == bool
    assert np.array_equal(A, B) and not np.array_equal(A, C)
    assert len(as_set(A)) == 40 and A.any(axis=0).all()
    assert as_set(A) <= as_set(enumerate_patterns(X))


def test_sampling_stops_when_fewer_patterns_exist():
    X = np.random.default_rng(0).standard_normal((5, 1))
    assert sample_patterns(X, 10, seed=0).shape[1] == 2
