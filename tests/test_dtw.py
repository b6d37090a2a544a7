"""Exact DTW against a hand-computed matrix, a planted path, librosa and fastdtw."""

import librosa
import numpy as np
import pytest

from speaksphere.dtw import cost_matrix, dtw, dtw_fast, path_costs, subsequence_dtw


def test_hand_computed_cost_matrix():
    # x = [0, 1, 2], y = [0, 2]: |x_i - y_j| = [[0, 2], [1, 1], [2, 0]]
    cost = cost_matrix(np.array([[0.0], [1.0], [2.0]]), np.array([[0.0], [2.0]]))
    np.testing.assert_allclose(cost, [[0, 2], [1, 1], [2, 0]])
    # accumulated: [[0, 2], [1, 1], [3, 1]] -> total 1 along (0,0) (1,0)? no: (0,0)->(1,1)->(2,1)
    result = dtw(cost)
    assert result.cost == pytest.approx(1.0)
    assert result.path.tolist() == [[0, 0], [1, 1], [2, 1]] or result.path.tolist() == [[0, 0], [1, 0], [2, 1]]
    assert result.path[0].tolist() == [0, 0] and result.path[-1].tolist() == [2, 1]


def test_planted_path_is_found():
    rng = np.random.default_rng(0)
    n, m = 40, 60
    cost = rng.uniform(1.0, 2.0, size=(n, m))
    # plant a cheap path of diagonal and horizontal steps (m - n of them horizontal): it is the only
    # zero-cost path, as a shortcut would need a vertical step
    horizontal = set(rng.choice(m - 1, size=m - n, replace=False).tolist())
    planted, i, j = [(0, 0)], 0, 0
    for step in range(m - 1):
        i, j = (i, j + 1) if step in horizontal else (i + 1, j + 1)
        planted.append((i, j))
    assert planted[-1] == (n - 1, m - 1)
    for a, b in planted:
        cost[a, b] = 0.0
    result = dtw(cost)
    assert result.cost == pytest.approx(0.0)
    assert [tuple(int(v) for v in p) for p in result.path] == planted


def test_matches_librosa_and_fastdtw():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50, 5)), rng.normal(size=(70, 5))
    cost = cost_matrix(x, y)
    result = dtw(cost)
    accumulated, _ = librosa.sequence.dtw(C=cost)
    assert result.cost == pytest.approx(accumulated[-1, -1])
    assert np.all(np.diff(result.path, axis=0) >= 0)
    assert result.cost == pytest.approx(cost[result.path[:, 0], result.path[:, 1]].sum())
    approx = dtw_fast(x, y, radius=70)  # a radius covering everything makes fastdtw exact
    assert approx.cost == pytest.approx(result.cost)


def test_subsequence_finds_the_query():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(100, 4))
    match = subsequence_dtw(cost_matrix(y[30:45], y))
    assert match.cost == pytest.approx(0.0, abs=1e-6)
    assert match.path[0].tolist() == [0, 30] and match.path[-1].tolist() == [14, 44]


def test_path_costs_per_frame():
    cost = np.array([[0.0, 4.0], [2.0, 6.0]])
    path = np.array([[0, 0], [1, 0], [1, 1]])
    np.testing.assert_allclose(path_costs(cost, path, axis=1), [1.0, 6.0])
    np.testing.assert_allclose(path_costs(cost, path, axis=0), [0.0, 4.0])


def test_cosine_metric_and_bad_input():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(cost_matrix(x, x, "cosine"), [[0, 1], [1, 0]], atol=1e-12)
    with pytest.raises(ValueError):
        cost_matrix(x, np.ones((3, 3)))
    with pytest.raises(ValueError):
        dtw(np.zeros((0, 3)))


def test_paired_costs_are_the_diagonal_of_the_cost_matrix():
    from speaksphere.dtw import paired_costs

    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((50, 13)), rng.standard_normal((50, 13))
    for metric in ("cosine", "euclidean"):
        np.testing.assert_allclose(paired_costs(x, y, metric), np.diag(cost_matrix(x, y, metric)), atol=1e-9)
