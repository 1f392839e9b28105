"""batching.py: collate in the original's auto mode (its slip included) and seqpack's explicit
modes, and length-grouped batches."""
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

