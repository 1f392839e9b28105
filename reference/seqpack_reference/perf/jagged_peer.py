"""The strongest padding-free TransformerLSTM plain PyTorch offers, as a peer for seqpack's
padding_free path: the same module and parameters (the reference's TransformerLSTM), run on the
real timesteps wherever PyTorch can.

- The layers that work step by step (the GRNs, the gates, the norms, the output head) run on the
  jagged batch: every row's real steps one after another, (sum L, features), with its offsets:
  what a nested tensor of jagged layout holds. They take its values tensor itself: torch's jagged
  nested tensors have no glu (the GRNs' gate), and on the values the same modules run unchanged.
- The LSTMs run packed (PyTorch's PackedSequence, cuDNN's or the CPU kernel's), packed straight
  from the jagged values and unpacked back to them, without a padded tensor in between.
- Attention cannot go jagged: scaled_dot_product_attention on jagged nested tensors takes no mask
  (the cross-attention needs the encoder's lengths and the causal decoder), and the original's
  interpretable attention shares one value projection across heads. It runs on the batch padded to
  its longest encoder and decoder rows (not to the window), with the original's masks.

Its output at the real decoder steps equals the reference's packed path's (the padding-free
contract of docs/padding-free.md; the padded path differs, since its LSTMs run the padding into the
decoder's initial state): reference/tests/test_jagged_peer.py.
"""
from __future__ import annotations

import torch
from torch.nn.utils.rnn import PackedSequence

from ..models import lstm_family


class JaggedRows:
    """Where a left-aligned batch's real steps are: their (row, step) positions, and how they map to
    a PackedSequence's time-major order and to a batch padded to the longest row."""

    def __init__(self, lengths: torch.Tensor, steps: int):
        lengths = lengths.reshape(-1).to("cpu", torch.long)
        if bool((lengths < 1).any()) or bool((lengths > steps).any()):
            raise ValueError(f"lengths: the jagged peer needs every length in [1, {steps}]")
        self.lengths, self.steps, self.longest = lengths, steps, int(lengths.max())
        self.real = torch.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
        offsets = torch.nn.functional.pad(lengths.cumsum(0), (1, 0))[:-1]
        order = torch.sort(lengths, descending=True, stable=True).indices
        sorted_lengths = lengths[order]
        time_major = torch.arange(self.longest).unsqueeze(1) < sorted_lengths.unsqueeze(0)  # (T', B) sorted
        t, k = time_major.nonzero(as_tuple=True)  # time-major, as PackedSequence stores its data
        self.pack_index = offsets[order[k]] + t  # packed position -> jagged position
        self.unpack_index = torch.empty_like(self.pack_index)
        self.unpack_index[self.pack_index] = torch.arange(self.pack_index.numel())
        self.batch_sizes = time_major.sum(1)
        self.sorted_indices, self.unsorted_indices = order, torch.argsort(order)
        rows = torch.arange(lengths.numel()).repeat_interleave(lengths)
        self.padded_index = rows * self.longest + (torch.arange(int(lengths.sum())) - offsets[rows])

    def to(self, device):
        for name in ("real", "pack_index", "unpack_index", "sorted_indices", "unsorted_indices", "padded_index"):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def jagged(self, padded: torch.Tensor) -> torch.Tensor:
        return padded[self.real]

    def pack(self, values: torch.Tensor) -> PackedSequence:
        return PackedSequence(values[self.pack_index], self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def unpack(self, packed: PackedSequence) -> torch.Tensor:
        return packed.data[self.unpack_index]

    def padded_to_longest(self, values: torch.Tensor) -> torch.Tensor:
        out = values.new_zeros(self.lengths.numel() * self.longest, values.size(-1))
        return out.index_copy(0, self.padded_index, values).view(self.lengths.numel(), self.longest, -1)

    def from_padded(self, padded: torch.Tensor) -> torch.Tensor:
        return padded.reshape(-1, padded.size(-1)).index_select(0, self.padded_index)


def forward(model, past_sequence, future_sequence, encoder_lengths, decoder_lengths):
    """TransformerLSTM's output at the real decoder steps, jagged: (sum decoder_lengths, output_dim)."""
    encoder = JaggedRows(encoder_lengths, past_sequence.size(1)).to(past_sequence.device)
    decoder = JaggedRows(decoder_lengths, future_sequence.size(1)).to(past_sequence.device)
    embedded = model.encoder_grn(encoder.jagged(past_sequence))
    output, state = model.encoder(encoder.pack(embedded))
    encoded = encoder.unpack(output) + embedded
    embedded = model.decoder_grn(decoder.jagged(future_sequence))
    output, _ = model.decoder(decoder.pack(embedded), state)
    decoded = decoder.unpack(output) + embedded
    # Attention on the batch padded to its longest rows, masked as the original masks it.
    encoded, decoded = encoder.padded_to_longest(encoded), decoder.padded_to_longest(decoded)
    mask = lstm_family._attention_mask(encoder_lengths, decoder_lengths, encoder.longest, decoder.longest,
                                       model.causal_attention)
    for block in model.transformer_blocks:
        encoded, decoded = block(encoded, decoded, mask, encoder_lengths)
    return model.output_head(decoder.from_padded(decoded))


def target_values(target: torch.Tensor, decoder_lengths: torch.Tensor) -> torch.Tensor:
    """The target at the real decoder steps, in the jagged output's order."""
    return JaggedRows(decoder_lengths, target.size(1)).to(target.device).jagged(target)
