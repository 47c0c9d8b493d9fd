"""TensorBatches: batches by indexing a tensor in memory, sharded for data parallelism."""

from __future__ import annotations

import pytest
import torch

from autoenc.data.loaders import TensorBatches


def make(n: int = 20, **kwargs) -> TensorBatches:
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()
    targets = torch.arange(n) * 10
    kwargs.setdefault("batch_size", 3)
    kwargs.setdefault("shuffle", True)
    return TensorBatches(images, targets, torch.arange(n), **kwargs)


def epoch(loader: TensorBatches) -> list[int]:
    """The item ids of one pass, checking images and targets stay paired."""
    ids = []
    for x, y in loader:
        assert x.dtype == torch.uint8 and x.shape[1:] == (1, 2, 2)
        assert torch.equal(x[:, 0, 0, 0].long() * 10, y)
        ids += x[:, 0, 0, 0].tolist()
    return ids


def test_unshuffled_pass_is_in_order_with_a_short_last_batch() -> None:
    loader = make(shuffle=False, batch_size=6)
    assert len(loader) == 4 and [len(x) for x, _ in loader] == [6, 6, 6, 2]
    assert epoch(loader) == list(range(20))


def test_drop_last() -> None:
    loader = make(shuffle=False, batch_size=6, drop_last=True)
    assert len(loader) == 3 and epoch(loader) == list(range(18))


def test_shuffling_differs_per_epoch_but_is_reproducible() -> None:
    a, b = make(seed=7), make(seed=7)
    first, second = epoch(a), epoch(a)
    assert sorted(first) == sorted(second) == list(range(20))
    assert first != second
    assert [epoch(b), epoch(b)] == [first, second]
    assert epoch(make(seed=8)) != first


def test_subset_of_indices() -> None:
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1)
    loader = TensorBatches(images, None, torch.tensor([1, 4, 7]), batch_size=2, shuffle=False)
    batches = list(loader)
    assert [x.flatten().tolist() for x, _ in batches] == [[1, 4], [7]] and batches[0][1] is None


@pytest.mark.parametrize("shuffle", [False, True])
def test_two_ranks_get_disjoint_equal_shards_covering_the_data(shuffle: bool) -> None:
    ranks = [make(n=20, shuffle=shuffle, seed=3, rank=r, world_size=2) for r in range(2)]
    assert len(ranks[0]) == len(ranks[1]) == 4  # 10 items each, batches of 3
    for _ in range(2):  # each epoch, both ranks draw the same permutation
        shards = [epoch(r) for r in ranks]
        assert len(shards[0]) == len(shards[1]) == 10
        assert not set(shards[0]) & set(shards[1])
        assert sorted(shards[0] + shards[1]) == list(range(20))


def test_uneven_count_is_truncated_to_equal_shards() -> None:
    ranks = [make(n=21, seed=3, rank=r, world_size=2) for r in range(2)]
    shards = [epoch(r) for r in ranks]
    assert len(shards[0]) == len(shards[1]) == 10 and not set(shards[0]) & set(shards[1])


def test_set_epoch_fixes_the_shuffle_order_like_a_sampler():
    """Lightning calls loader.sampler.set_epoch(e): a resumed run must continue the sequence."""
    import torch

    from autoenc.data.loaders import TensorBatches

    images = torch.arange(40, dtype=torch.uint8).view(40, 1, 1, 1)
    fresh = TensorBatches(images, None, torch.arange(40), 8, shuffle=True, seed=3)
    orders = [torch.cat([x.flatten() for x, _ in fresh]) for _ in range(3)]
    resumed = TensorBatches(images, None, torch.arange(40), 8, shuffle=True, seed=3)
    resumed.sampler.set_epoch(2)
    assert torch.equal(torch.cat([x.flatten() for x, _ in resumed]), orders[2])
    assert not torch.equal(orders[1], orders[2])
