"""embflow's Python module against torch.nn.EmbeddingBag, and its errors.

Tolerance: embflow and torch both sum float32 rows, possibly in another order (SIMD chains), so
results agree to a few ulps of the sum of absolute values; we allow 1e-5 relative to that sum.
"""
import os
import threading
import warnings

import numpy as np
import pytest

import embflow

torch = pytest.importorskip("torch")
SEED = int(os.environ.get("EMBFLOW_TEST_SEED", "20241126"))
# The tests' small numpy tables start where numpy puts them (16-byte boundaries): the warning
# that this is slow is tested once, below, and silenced elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:.*past a 64-byte boundary:UserWarning")


def random_model(rng, tables=5):
    dims = [int(rng.choice([1, 3, 8, 16, 17, 64]))] * tables
    rows = [int(rng.integers(1, 5000)) for _ in range(tables)]
    return [rng.standard_normal((r, d)).astype(np.float32) for r, d in zip(rows, dims)]


def random_bags(rng, rows, batch, dtype, max_bag=6, empty=True):
    lengths = rng.integers(0 if empty else 1, max_bag + 1, size=batch)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(dtype)
    indices = rng.integers(0, rows, size=int(offsets[-1])).astype(dtype)
    return indices, offsets


def torch_bag(weight, indices, offsets, mode, weights=None):
    bag = torch.nn.EmbeddingBag.from_pretrained(torch.from_numpy(weight), mode=mode)
    psw = None if weights is None else torch.from_numpy(weights)
    return bag(torch.from_numpy(indices.astype(np.int64)), torch.from_numpy(offsets[:-1].astype(np.int64)),
               per_sample_weights=psw).numpy()


def assert_close(out, ref, weight, indices, offsets, weights=None):
    # Bound per bag: 1e-5 * sum of |w * row| over the bag (plus a floor for empty bags).
    w = np.ones(len(indices), np.float32) if weights is None else np.abs(weights)
    bound = np.zeros_like(ref)
    for b in range(len(offsets) - 1):
        s, e = offsets[b], offsets[b + 1]
        if e > s:
            bound[b] = (w[s:e, None] * np.abs(weight[indices[s:e]])).sum(axis=0)
    np.testing.assert_array_less(np.abs(out - ref), 1e-5 * bound + 1e-30, err_msg=f"seed {SEED}")


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_equals_torch_embedding_bag(dtype, mode):
    rng = np.random.default_rng(SEED)
    for _ in range(4):
        tables = random_model(rng)
        ebc = embflow.EmbeddingBagCollection(tables, pooling=mode)
        batch = int(rng.integers(1, 300))
        bags = [random_bags(rng, t.shape[0], batch, dtype) for t in tables]
        out = ebc.forward([b[0] for b in bags], [b[1] for b in bags])
        assert out.shape == (batch, len(tables), tables[0].shape[1])
        for t, (w, (ix, off)) in enumerate(zip(tables, bags)):
            assert_close(out[:, t], torch_bag(w, ix, off, mode), w, ix, off)


def test_weighted_sum_equals_torch():
    rng = np.random.default_rng(SEED + 1)
    tables = random_model(rng, 3)
    ebc = embflow.EmbeddingBagCollection(tables)
    bags = [random_bags(rng, t.shape[0], 64, np.int64) for t in tables]
    weights = [rng.uniform(0, 2, size=len(b[0])).astype(np.float32) for b in bags]
    out = ebc.forward([b[0] for b in bags], [b[1] for b in bags], per_sample_weights=weights)
    for t, (w, (ix, off)) in enumerate(zip(tables, bags)):
        assert_close(out[:, t], torch_bag(w, ix, off, "sum", weights[t]), w, ix, off, weights[t])


def test_empty_bags_give_zeros_and_tensors_are_not_copied():
    weight = torch.randn(10, 8)
    ebc = embflow.EmbeddingBagCollection([weight])
    out = ebc.forward([np.array([3], np.int64)], [np.array([0, 0, 1, 1], np.int64)])
    assert np.all(out[0] == 0) and np.all(out[2] == 0)
    np.testing.assert_array_equal(out[1, 0], weight[3].numpy())
    weight[3] += 1.0  # the collection reads the tensor's own memory
    out2 = ebc.forward([np.array([3], np.int64)], [np.array([0, 0, 1, 1], np.int64)])
    np.testing.assert_array_equal(out2[1, 0], weight[3].numpy())


def test_jagged_layout_matches_csr():
    rng = np.random.default_rng(SEED + 2)
    tables = [rng.standard_normal((100, 16)).astype(np.float32) for _ in range(3)]
    ebc = embflow.EmbeddingBagCollection(tables)
    batch = 32
    lengths = rng.integers(0, 5, size=(3, batch))
    values = np.concatenate([rng.integers(0, 100, size=int(l.sum())) for l in lengths]).astype(np.int64)
    jagged = ebc.forward_jagged(values, lengths)
    starts = np.concatenate([[0], np.cumsum(lengths.sum(axis=1))])
    csr = ebc.forward([values[starts[t]:starts[t + 1]] for t in range(3)],
                      [np.concatenate([[0], np.cumsum(lengths[t])]).astype(np.int64) for t in range(3)])
    np.testing.assert_array_equal(jagged, csr)
    np.testing.assert_array_equal(ebc.forward_jagged(values, lengths.reshape(-1)), csr)


def test_jagged_int32_weighted_and_bad_input():
    # The jagged path views each table's slice of `values` (and `weights`) in place, with offsets
    # of the values' own index type: int32 and weights must give what the CSR path gives.
    rng = np.random.default_rng(SEED + 7)
    tables = [rng.standard_normal((50 + 10 * t, 8)).astype(np.float32) for t in range(3)]
    ebc = embflow.EmbeddingBagCollection(tables)
    batch = 16
    lengths = rng.integers(0, 4, size=(3, batch)).astype(np.int32)
    values = np.concatenate([rng.integers(0, tables[t].shape[0], size=int(lengths[t].sum()))
                             for t in range(3)]).astype(np.int32)
    weights = rng.uniform(0, 2, size=len(values)).astype(np.float32)
    jagged = ebc.forward_jagged(values, lengths, weights)
    starts = np.concatenate([[0], np.cumsum(lengths.sum(axis=1))])
    part = lambda a, t: a[starts[t]:starts[t + 1]]
    csr = ebc.forward([part(values, t) for t in range(3)],
                      [np.concatenate([[0], np.cumsum(lengths[t])]).astype(np.int32) for t in range(3)],
                      per_sample_weights=[part(weights, t) for t in range(3)])
    np.testing.assert_array_equal(jagged, csr)
    with pytest.raises(embflow.InvalidInput, match="weights for"):
        ebc.forward_jagged(values, lengths, weights[:-1])
    # An out-of-range value in table 1's sample 2 (made non-empty) names that table and sample.
    lengths[1, 2] = max(lengths[1, 2], 1)
    values = np.concatenate([rng.integers(0, tables[t].shape[0], size=int(lengths[t].sum()))
                             for t in range(3)]).astype(np.int32)
    bad = values.copy()
    first = int(lengths.sum(axis=1)[0] + lengths[1, :2].sum())
    bad[first] = tables[1].shape[0]
    with pytest.raises(embflow.InvalidInput, match=r"table 't1': sample 2: index 60"):
        ebc.forward_jagged(bad, lengths)


def test_collapse_huge_pages_keeps_the_results():
    rng = np.random.default_rng(SEED + 8)
    table = rng.standard_normal((1 << 17, 16)).astype(np.float32)  # 8 MiB: whole 2 MiB pages inside
    ebc = embflow.EmbeddingBagCollection([table])
    ix, off = ebc.generate(512)
    before = ebc.forward(ix, off)
    done = ebc.collapse_huge_pages()  # 0 where the kernel refuses (THP off, old kernel)
    assert 0 <= done <= table.nbytes and done % (2 << 20) == 0
    np.testing.assert_array_equal(ebc.forward(ix, off), before)
    assert embflow.EmbeddingBagCollection.from_preset("criteo-kaggle", max_rows=1000).collapse_huge_pages() == 0


def test_out_parameter_is_written_in_place():
    rng = np.random.default_rng(SEED + 5)
    tables = [rng.standard_normal((100, 8)).astype(np.float32) for _ in range(2)]
    ebc = embflow.EmbeddingBagCollection(tables)
    ix = [np.array([1, 2, 3], np.int64)] * 2
    off = [np.array([0, 1, 3], np.int64)] * 2
    out = np.full((2, 2, 8), np.nan, np.float32)
    result = ebc.forward(ix, off, out=out)
    assert result is out or np.shares_memory(result, out)
    np.testing.assert_array_equal(out, ebc.forward(ix, off))
    with pytest.raises(ValueError, match="out must be"):
        ebc.forward(ix, off, out=np.empty((2, 2, 8), np.float64))
    with pytest.raises(ValueError, match="out must be"):
        ebc.forward(ix, off, out=np.empty((3, 2, 8), np.float32))



def test_empty_output_is_aligned_and_serves_as_out():
    rng = np.random.default_rng(SEED + 6)
    ebc = embflow.EmbeddingBagCollection([rng.standard_normal((50, 16)).astype(np.float32),
                                          rng.standard_normal((70, 16)).astype(np.float32)])
    ix, off = ebc.generate(33, "zipf:1.05")
    out = ebc.empty_output(33)
    assert out.shape == (33, 2, 16) and out.dtype == np.float32 and out.flags.c_contiguous and out.flags.writeable
    assert out.ctypes.data % 64 == 0
    assert np.shares_memory(ebc.forward(ix, off, out=out), out)
    np.testing.assert_array_equal(out, ebc.forward(ix, off))
    mixed = embflow.EmbeddingBagCollection.from_specs([{"rows": 10, "dim": 4}, {"rows": 20, "dim": 6}])
    assert mixed.empty_output(5).shape == (5, 10) and mixed.empty_output(0).shape == (0, 10)
    with pytest.raises(ValueError, match="negative"):
        ebc.empty_output(-1)

def test_empty_table_is_aligned_and_a_misaligned_table_warns():
    rng = np.random.default_rng(SEED + 7)
    for dtype in (np.float32, np.float16):
        t = embflow.empty_table(300, 12, dtype=dtype)
        assert t.shape == (300, 12) and t.dtype == dtype and t.flags.c_contiguous and t.flags.writeable
        assert t.ctypes.data % 64 == 0 and not t.any()
    table = embflow.empty_table(300, 12)
    table[:] = rng.standard_normal((300, 12))
    ix = rng.integers(0, 300, 64 * 3)
    off = np.arange(0, 64 * 3 + 1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aligned = embflow.EmbeddingBagCollection([table])
    # The same rows 16 bytes past a 64-byte boundary (where numpy's own arrays start): used in
    # place, the same sums, and a warning that says why it is slow and what to do.
    buf = embflow.empty_table(301, 12)
    shifted = buf.reshape(-1)[4:4 + 300 * 12].reshape(300, 12)
    shifted[:] = table
    with pytest.warns(UserWarning, match=r"1 of 2 tables start past a 64-byte boundary.*: 't0' \(16 bytes\); .*empty_table"):
        misaligned = embflow.EmbeddingBagCollection([shifted, table])
    np.testing.assert_array_equal(misaligned.forward([ix, ix], [off, off])[:, 0], aligned.forward([ix], [off])[:, 0])
    with pytest.raises(ValueError, match="neither float32 nor float16"):
        embflow.empty_table(3, 4, dtype=np.float64)
    with pytest.raises(ValueError, match="empty or negative"):
        embflow.empty_table(0, 4)

def test_presets_specs_and_different_dims():
    ebc = embflow.EmbeddingBagCollection.from_preset("criteo-kaggle", dim=8, max_rows=1000)
    assert ebc.num_tables == 26 and set(ebc.dims) == {8} and max(ebc.rows) == 1000
    specs = embflow.EmbeddingBagCollection.from_specs([{"rows": 10, "dim": 4}, {"rows": 20, "dim": 6, "pooling": "mean"}])
    out = specs.forward([np.array([1], np.int32), np.array([2], np.int32)],
                        [np.array([0, 1], np.int32), np.array([0, 1], np.int32)])
    assert out.shape == (1, 10)  # dims differ: [B, sum of dims]


def test_bad_input_raises_clear_errors():
    ebc = embflow.EmbeddingBagCollection([np.zeros((10, 4), np.float32)], names=["users"])
    off = np.array([0, 2], np.int64)
    with pytest.raises(ValueError, match="users.*index 10.*out of range"):
        ebc.forward([np.array([1, 10], np.int64)], [off])
    with pytest.raises(ValueError, match="users.*-1"):
        ebc.forward([np.array([1, -1], np.int64)], [off])
    with pytest.raises(ValueError, match="int32 or int64"):
        ebc.forward([np.array([1.0, 2.0])], [off])
    with pytest.raises(ValueError, match="not C-contiguous"):
        ebc.forward([np.arange(4, dtype=np.int64)[::2]], [off])
    with pytest.raises(ValueError, match="dtype"):
        ebc.forward([np.array([1, 2], np.int64)], [off.astype(np.int32)])
    with pytest.raises(ValueError, match="1 tables"):
        ebc.forward([np.array([1], np.int64)] * 2, [off] * 2)
    with pytest.raises(ValueError, match="float32"):
        ebc.forward([np.array([1, 2], np.int64)], [off], per_sample_weights=[np.ones(2)])
    with pytest.raises(ValueError, match="float32 or float16"):
        embflow.EmbeddingBagCollection([np.zeros((10, 4), np.float64)])
    with pytest.raises(ValueError, match="not C-contiguous"):
        embflow.EmbeddingBagCollection([np.zeros((4, 10), np.float32).T])
    assert issubclass(embflow.InvalidInput, ValueError)


def four_tables_and_a_batch(seed):
    """A collection of four tables (50 to 200 000 rows) and a batch of 128 random bags for it."""
    rng = np.random.default_rng(seed)
    tables = [rng.standard_normal((int(r), 16)).astype(np.float32) for r in (50, 5000, 200000, 30)]
    bags = [random_bags(rng, t.shape[0], 128, np.int64) for t in tables]
    return embflow.EmbeddingBagCollection(tables), [b[0] for b in bags], [b[1] for b in bags]


def test_plan_and_pinned_workers_give_the_same_result():
    ebc, ix, off = four_tables_and_a_batch(SEED + 3)
    plan = ebc.plan(ix, off, profile="server-16-core", cores=1, min_gain=0.0)
    assert "core" in plan.describe() and plan.predicted_makespan > 0 and plan.to_json().startswith("{")
    single = ebc.forward(ix, off)
    ebc.use_plan(plan)
    np.testing.assert_allclose(ebc.forward(ix, off), single, rtol=1e-5, atol=1e-6)
    ebc.use_plan(None)


def test_a_plan_runs_with_its_profiles_prefetch_lead(tmp_path):
    # A measured profile's prefetch lead reaches the plan's workers; a bad one is named.
    import json
    source = os.path.join(os.path.dirname(__file__), "..", "..", "profiles", "server_16_core.json")
    with open(source) as f:
        profile = json.load(f)
    profile["prefetch"] = {"l2_lead_lines_by_row_bytes": {"64": 256, "128": 64, "256": 32, "512": 16}}
    path = tmp_path / "lead.json"
    path.write_text(json.dumps(profile))
    ebc, ix, off = four_tables_and_a_batch(SEED + 5)
    plan = ebc.plan(ix, off, profile=str(path), cores=1, min_gain=0.0)
    single = ebc.forward(ix, off)
    ebc.use_plan(plan)
    np.testing.assert_allclose(ebc.forward(ix, off), single, rtol=1e-5, atol=1e-6)
    ebc.use_plan(None)
    profile["prefetch"]["l2_lead_lines_by_row_bytes"]["128"] = 0
    path.write_text(json.dumps(profile))
    with pytest.raises(ValueError, match=r"prefetch\.l2_lead_lines_by_row_bytes\.128' must be positive"):
        ebc.plan(ix, off, profile=str(path), cores=1)


def test_a_tuned_plan_is_one_of_the_candidates_and_says_why():
    ebc, ix, off = four_tables_and_a_batch(SEED + 4)
    others = [ebc.generate(128, "uniform", seed=s) for s in (1, 2)]
    plan = ebc.plan(ix, off, profile="server-16-core", cores=1, tune=3, tune_batches=others)
    assert plan.mapper in ("asymmetric", "symmetric", "table-wise")
    assert any("tuning:" in n for n in plan.notes)
    single = ebc.forward(ix, off)
    ebc.use_plan(plan)
    np.testing.assert_allclose(ebc.forward(ix, off), single, rtol=1e-5, atol=1e-6)
    ebc.use_plan(None)
    with pytest.raises(ValueError, match="mapper='asymmetric'"):
        ebc.plan(ix, off, profile="server-16-core", cores=1, mapper="symmetric", tune=3)
    bad = [np.array(i, copy=True) for i in ix]
    bad[1][0] = 10**6  # out of range in table 1
    with pytest.raises(ValueError, match="out of range"):
        ebc.plan(ix, off, profile="server-16-core", cores=1, tune=3, tune_batches=[(bad, off)])


def test_several_python_threads():
    rng = np.random.default_rng(SEED + 4)
    tables = [rng.standard_normal((1000, 32)).astype(np.float32) for _ in range(4)]
    ebc = embflow.EmbeddingBagCollection(tables)
    bags = [random_bags(rng, 1000, 256, np.int64) for _ in tables]
    ix, off = [b[0] for b in bags], [b[1] for b in bags]
    expected = ebc.forward(ix, off)
    errors = []

    def work():
        for _ in range(20):
            if not np.array_equal(ebc.forward(ix, off), expected):
                errors.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_roofline_floor_is_measured_per_core_count_and_kept():
    rng = np.random.default_rng(SEED + 6)
    ebc = embflow.EmbeddingBagCollection([rng.standard_normal((4096, 16)).astype(np.float32)])
    ix, off = ebc.generate(256)
    one = ebc.roofline_floor(ix, off)
    assert one > 0
    assert ebc.roofline_floor(ix, off) == one  # measured once, then kept
    cores = len(os.sched_getaffinity(0))
    assert ebc.roofline_floor(ix, off, cores=cores) > 0
    with pytest.raises(embflow.InvalidInput, match="cores must be 1 to"):
        ebc.roofline_floor(ix, off, cores=100000)
