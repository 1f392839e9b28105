"""batching.py: collate in the original's auto mode (its slip included) and seqpack's explicit
modes, length-grouped batches and rank batches (every sampler)."""
import pytest
import torch

from seqpack_reference import batching


def f64(*values):
    return torch.tensor(values, dtype=torch.float64)


def sample(encoder, decoder, encoder_length=None, decoder_length=None):
    s = {"encoder_input": f64(*encoder).unsqueeze(-1), "decoder_input": f64(*decoder).unsqueeze(-1),
         "target": f64(*decoder).unsqueeze(-1)}
    if encoder_length is not None:
        s["encoder_lengths"] = f64(encoder_length)
    if decoder_length is not None:
        s["decoder_lengths"] = f64(decoder_length)
    return s


def test_explicit_right_samples_are_cut_to_the_longest_and_realigned_left():
    # Right-aligned windows of 4 steps, lengths 2 and 3: cut to 3 steps from the end, then moved left.
    samples = [sample([0, 0, 1, 2], [7, 8], 2, 2), sample([0, 3, 4, 5], [9, 0], 3, 1)]
    batch = batching.collate(samples, encoder_alignment="left", sample_alignment="right")
    assert batch["encoder_input"].squeeze(-1).tolist() == [[1, 2, 0], [3, 4, 5]]
    assert batch["decoder_input"].squeeze(-1).tolist() == [[7, 8], [9, 0]]
    assert batch["encoder_lengths"].tolist() == [[2], [3]]


def test_auto_collate_without_lengths_takes_the_feature_count_for_the_length():
    # The original's slip: without lengths the batch length is size(1), the feature count (1
    # here), so every window is cut to its last encoder step and its first decoder step.
    samples = [sample([1, 2, 3, 4], [7, 8]), sample([5, 6, 7, 8], [9, 10])]
    batch = batching.collate(samples, encoder_alignment="left", sample_alignment="auto")
    assert batch["encoder_input"].squeeze(-1).tolist() == [[4], [8]]
    assert batch["decoder_input"].squeeze(-1).tolist() == [[7], [9]]
    explicit = batching.collate(samples, encoder_alignment="left", sample_alignment="right")
    assert explicit["encoder_input"].shape == (2, 4, 1)


def test_length_grouped_batches_without_shuffling():
    # Buckets of 2 batches of 2: [0..3] (lengths 3 1 4 1) and [4..7] (5 9 2 6), each sorted
    # longest first, stably: [2, 0], [1, 3], [5, 7], [4, 6]. Real steps 31; padded
    # 2 * (4 + 1 + 9 + 5) = 38.
    lengths = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
    batches, fill = batching.length_grouped_batches(lengths, batch_size=2, bucket_batches=2, shuffle=False)
    assert batches == [[2, 0], [1, 3], [5, 7], [4, 6]]
    assert fill == 31 / 38


def test_length_grouped_batches_with_a_seed_are_a_partition():
    batches, _ = batching.length_grouped_batches(torch.arange(1, 21), batch_size=3, bucket_batches=2, seed=7)
    assert sorted(i for b in batches for i in b) == list(range(20))
    assert sorted(len(b) for b in batches) == [2] + [3] * 6



def rank_plan_samples(steps):
    return sorted(i for step in steps for batch in step for i in batch)


def test_rank_batches_see_every_sample_once_in_equal_steps():
    lengths = torch.randint(1, 100, (96,), generator=torch.Generator().manual_seed(1))
    for sampler in batching.RANK_SAMPLERS:
        for ranks in (1, 2, 3, 4):
            steps, rank_fill, fill = batching.rank_batches(lengths, ranks, 4, sampler, bucket_batches=2, seed=5)
            assert rank_plan_samples(steps) == list(range(96)), (sampler, ranks)
            assert len(steps) == 96 // (4 * ranks)
            assert all(len(step) == ranks and all(len(b) == 4 for b in step) for step in steps)
            assert len(rank_fill) == ranks and 0 < fill <= 1


def test_rank_batches_are_determined_by_the_seed():
    lengths = torch.randint(1, 100, (64,), generator=torch.Generator().manual_seed(2))
    for sampler in batching.RANK_SAMPLERS:
        first = batching.rank_batches(lengths, 2, 4, sampler, bucket_batches=2, seed=3)
        assert batching.rank_batches(lengths, 2, 4, sampler, bucket_batches=2, seed=3) == first
        assert batching.rank_batches(lengths, 2, 4, sampler, bucket_batches=2, seed=4)[0] != first[0]


def test_rank_batches_drop_last_leaves_out_the_order_tail():
    lengths = torch.arange(1, 27)
    steps, _, _ = batching.rank_batches(lengths, 2, 3, "grouped_global", shuffle=False, drop_last=True)
    # 26 samples, 6 a step: 4 steps; unshuffled, the last 2 (indices 24, 25) are dropped.
    assert rank_plan_samples(steps) == list(range(24))


def test_grouped_global_ranks_see_like_lengths_within_a_step():
    lengths = torch.randint(1, 200, (512,), generator=torch.Generator().manual_seed(3))
    values = lengths.tolist()

    def spread(sampler):
        steps, _, _ = batching.rank_batches(lengths, 4, 8, sampler, seed=1)
        longest = [[max(values[i] for i in batch) for batch in step] for step in steps]
        return sum(max(s) - min(s) for s in longest) / len(longest)

    # Longest lengths of one step's ranks differ by far less than when each rank groups alone.
    assert spread("grouped_global") < 0.25 * spread("grouped_per_rank")
    assert spread("grouped_global") < 0.25 * spread("random")


def test_grouped_global_deals_a_sorted_batch_round_robin():
    lengths = torch.tensor([1, 8, 3, 6, 5, 4, 7, 2])
    steps, rank_fill, fill = batching.rank_batches(lengths, 2, 2, "grouped_global", bucket_batches=2, shuffle=False)
    # One bucket, sorted longest first: 1 6 3 4 | 5 2 7 0 (lengths 8 7 6 5 | 4 3 2 1); dealt r, r + 2.
    assert steps == [[[1, 3], [6, 4]], [[5, 7], [2, 0]]]
    assert rank_fill == [(8 + 6 + 4 + 2) / (16 + 8), (7 + 5 + 3 + 1) / (14 + 6)]
    assert fill == 36 / 44


def test_rank_batches_at_one_rank_are_length_grouped_batches():
    lengths = torch.randint(1, 60, (120,), generator=torch.Generator().manual_seed(4))
    for shuffle in (True, False):
        for sampler in ("grouped_per_rank", "grouped_global"):
            steps, rank_fill, fill = batching.rank_batches(lengths, 1, 8, sampler, bucket_batches=3, shuffle=shuffle,
                                                           seed=9)
            batches, grouped_fill = batching.length_grouped_batches(lengths, 8, bucket_batches=3, shuffle=shuffle,
                                                                    seed=9)
            assert [step[0] for step in steps] == batches
            assert rank_fill == [grouped_fill] and fill == grouped_fill
        steps, _, _ = batching.rank_batches(lengths, 1, 8, "random", shuffle=shuffle, seed=9)
        random_batches, _ = batching.length_grouped_batches(lengths, 8, shuffle=shuffle, seed=9, group_by_length=False)
        assert [step[0] for step in steps] == random_batches


def test_rank_batches_rejections():
    ten = torch.arange(1, 11)
    for args, kwargs, mention in [
        ((ten, 2, 5, "sorted"), {}, "sampler"),
        ((ten, 0, 5, "random"), {}, "ranks"),
        ((ten, 2, 0, "random"), {}, "batch_size"),
        ((ten, 2, 5, "random"), {"bucket_batches": 0}, "bucket_batches"),
        ((ten, 3, 2, "random"), {}, "multiple of ranks x batch_size = 6"),
        ((ten, 4, 3, "random"), {"drop_last": True}, "at least ranks x batch_size = 12"),
        ((torch.zeros(0), 1, 1, "random"), {}, "at least one sample"),
        ((torch.tensor([1.0, 2.5]), 1, 1, "random"), {}, "row 1"),
        ((torch.tensor([1, -2]), 1, 1, "random"), {}, "row 1"),
        ((torch.ones(2, 2), 1, 1, "random"), {}, "shape"),
    ]:
        with pytest.raises(ValueError, match=mention):
            batching.rank_batches(*args, **kwargs)
