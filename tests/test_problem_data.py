import numpy as np
import pytest

from relubench.datasets import dataset_info, dataset_names, load_dataset
from relubench.errors import InputError
from relubench.problem import Problem, beta_from_scnn_lambda, scnn_lambda_from_beta
from relubench.running.reference import reference_optimum


def test_problem_bias_and_validation():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = rng.standard_normal(20)
    p = Problem.create(X, y, 0.5, patterns=10, bias=True)
    assert p.d == 4 and np.all(p.X[:, -1] == 1)
    assert p.P == 10 and p.masks.dtype == bool
    with pytest.raises(InputError, match="beta"):
        Problem.create(X, y, 0.0)
    with pytest.raises(InputError, match="rows"):
        Problem.create(X, y[:5], 1.0)
    with pytest.raises(InputError, match="masks"):
        Problem.create(X, y, 1.0, patterns=np.ones((5, 2), dtype=bool))


def test_content_hash_changes_with_every_ingredient():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = rng.standard_normal(20)
    base = Problem.create(X, y, 0.5, patterns=10, seed=1)
    same = Problem.create(X.copy(), y.copy(), 0.5, patterns=10, seed=1)
    assert base.content_hash == same.content_hash
    others = [
        Problem.create(X, y, 0.51, patterns=10, seed=1),
        Problem.create(X, y + 1e-12, 0.5, patterns=10, seed=1),
        Problem.create(X, y, 0.5, patterns=10, seed=2),
        Problem.create(X, y, 0.5, patterns=11, seed=1),
    ]
    assert len({base.content_hash, *(o.content_hash for o in others)}) == 5


def test_scnn_conversion_gives_same_minimizer():
    assert beta_from_scnn_lambda(0.01, 200) == pytest.approx(2.0)
    assert scnn_lambda_from_beta(2.0, 200) == pytest.approx(0.01)


def test_reference_is_cached_and_recomputed_when_corrupt(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((25, 3))
    y = rng.standard_normal(25)
    p = Problem.create(X, y, 0.2, patterns=8)
    first = reference_optimum(p)
    import relubench.running.solver as reg

    def boom(*a, **k):
        raise AssertionError("cache not used")

    from relubench.running.reference import cache_dir

    path = cache_dir() / "reference" / f"{first.key}.json"
    assert path.exists()
    with monkeypatch.context() as m:
        m.setattr(reg, "get_solver", boom)
        assert reference_optimum(p).value == first.value
    path.write_text("{not json")
    assert reference_optimum(p).value == pytest.approx(first.value, rel=1e-12)


@pytest.mark.parametrize("name,d", [("breast_cancer", 30), ("wine", 13), ("digits", 64), ("iris", 4), ("diabetes", 10)])
def test_real_datasets_standardized_and_split(name, d):
    ds = load_dataset(name, seed=3)
    assert ds.X_train.shape[1] == d == ds.X_test.shape[1]
    assert np.allclose(ds.X_train.mean(axis=0), 0, atol=1e-10)
    if ds.task == "classification":
        assert set(np.unique(ds.y_train)) == {-1.0, 1.0}
    else:
        assert abs(ds.y_train.mean()) < 1e-10
    again = load_dataset(name, seed=3)
    assert np.array_equal(ds.X_train, again.X_train)
    assert ds.X_test.shape[0] == round(0.2 * (ds.X_train.shape[0] + ds.X_test.shape[0]))


def test_gaussian_teacher_and_random_labels():
    t = load_dataset("gaussian", n=50, d=7, seed=1)
    r = load_dataset("gaussian", n=50, d=7, seed=1, labels="random")
    assert t.X_train.shape == (50, 7) and t.task == "regression"
    assert set(np.unique(r.y_train)) <= {-1.0, 1.0} and r.task == "classification"
    assert not np.array_equal(load_dataset("gaussian", n=50, d=7, seed=2).X_train, t.X_train)


@pytest.mark.parametrize("name", [n for n in dataset_names() if dataset_info(n).rows is not None])
def test_declared_dataset_facts_match_the_loaded_arrays(name):
    """`relubench datasets` lists declared facts; the data as loaded must bear every one of them out."""
    info = dataset_info(name)
    ds = load_dataset(name, multiclass=info.classes is not None and info.classes > 2) if info.classes else None
    ds = ds or load_dataset(name)
    assert ds.task == info.task
    assert ds.X_train.shape[0] + ds.X_test.shape[0] == info.rows
    assert ds.X_train.shape[1] == info.features
    if info.classes is None:
        assert ds.y_train.ndim == 1 and not np.isin(ds.y_train, (-1.0, 1.0)).all()
    elif info.classes == 2:
        assert set(np.unique(ds.y_train)) == {-1.0, 1.0}
    else:
        assert ds.y_train.shape[1] == info.classes
