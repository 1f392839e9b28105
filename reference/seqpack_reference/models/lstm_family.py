"""AttentionLSTM, EncoderDecoderLSTM and TransformerLSTM (transformertf models/*/_model.py at
8842cb8), restated from their architecture, with the original's state_dict names. `packing` is
seqpack's: "auto" is the original's choice (should_use_packing per LSTM); "always" and "never"
force one path; "calibrated" picks one path for the step by the fitted cost model
(packing_policy.py)."""
from __future__ import annotations

import types

import torch
from torch import nn

from .. import masks, packing_policy, sequence
from .blocks import MLP, GateAddNorm, GatedResidualNetwork, InterpretableMultiHeadAttention


# The packing functions the models call. The goldens use the reference's; the benchmarks swap in
# the original's plain PyTorch calls, with or without torch.compiler.disable.
PACKING = types.SimpleNamespace(
    pack_encoder=lambda x, lengths: sequence.pack_encoder_sequences(x, lengths, align_first=False),
    pack_decoder=sequence.pack_decoder_sequences,
    unpack=lambda packed, steps: sequence.unpack_to_fixed_length(packed, total_length=steps)[0],
)


def _lstm(input_size, hidden, layers, dropout):
    return nn.LSTM(input_size, hidden, num_layers=layers, dropout=dropout if layers > 1 else 0.0, batch_first=True)


def _packs(packing, lengths):
    if lengths is None or packing == "never":
        return False
    return packing == "always" or sequence.should_use_packing(lengths)


def _run_packed(lstm, x, lengths, encoder, state):
    packed = PACKING.pack_encoder(x, lengths) if encoder else PACKING.pack_decoder(x, lengths)
    out, state = lstm(packed, state)
    return PACKING.unpack(out, x.size(1)), state


def run_lstm(lstm, x, lengths, packing, encoder, state=None):
    """(output, (h, c)): packed with rows read from step 0 and unpacked to x's T, or padded.
    Packed, a row of length 0 (which PyTorch refuses to pack) runs no step: zero output, and its
    state stays the initial one (zeros without one), as if it were absent."""
    if not _packs(packing, lengths):
        return lstm(x, state)
    flat = lengths.reshape(-1)
    if bool((flat > 0).all()):
        return _run_packed(lstm, x, flat, encoder, state)
    shape = (lstm.num_layers, x.size(0), lstm.hidden_size)
    h0, c0 = state if state is not None else (x.new_zeros(shape), x.new_zeros(shape))
    out = x.new_zeros(x.size(0), x.size(1), lstm.hidden_size)
    rows = (flat > 0).nonzero().squeeze(1)
    if rows.numel() == 0:
        return out, (h0, c0)
    sub_state = None if state is None else (h0[:, rows], c0[:, rows])
    sub_out, (h, c) = _run_packed(lstm, x[rows], flat[rows], encoder, sub_state)
    return out.index_copy(0, rows, sub_out), (h0.index_copy(1, rows, h), c0.index_copy(1, rows, c))


def _resolve(model, name, past_sequence, encoder_lengths):
    """The path the forward takes, as run_lstm names it. seqpack's padding_free (which the calibrated
    policy may pick) is restated here as its meaning: the packed path, whose output is then kept at
    the real steps only (_real_steps_only). seqpack computes it on the real steps alone; the two
    differ only at a query with no key to attend (docs/padding-free.md), which the goldens avoid."""
    packing = packing_policy.resolve(model.packing, name, past_sequence, encoder_lengths)
    model.took_padding_free = packing == "padding_free"
    return "always" if model.took_padding_free else packing


def _real_steps_only(model, output, decoder_lengths):
    """On the padding-free path, zeros at the decoder's padding."""
    if not model.took_padding_free or decoder_lengths is None:
        return output
    real = torch.arange(output.size(1), device=decoder_lengths.device).unsqueeze(0) < decoder_lengths.reshape(-1, 1)
    return torch.where(real.unsqueeze(-1), output, torch.zeros_like(output))


def _attention_mask(encoder_lengths, decoder_lengths, te, td, causal):
    if encoder_lengths is None or decoder_lengths is None:
        return None
    return masks.get_attention_mask(encoder_lengths, decoder_lengths, te, td, causal_attention=causal)


def _project(projection, state):
    if projection is None:
        return state
    return projection["h_proj"](state[0]), projection["c_proj"](state[1])


class AttentionLSTM(nn.Module):
    default_criterion = {"criterion": "torch.nn.MSELoss"}

    def __init__(self, num_past_features, num_future_features, d_model=128, num_layers=2, dropout=0.1, num_heads=4,
                 use_gating=True, trainable_add=False, output_dim=1, causal_attention=True, d_encoder=None,
                 d_decoder=None, packing="auto"):
        super().__init__()
        d_encoder, d_decoder = d_encoder or d_model, d_decoder or d_model
        self.causal_attention, self.packing = causal_attention, packing
        self.encoder = _lstm(num_past_features, d_encoder, num_layers, dropout)
        self.decoder = _lstm(num_future_features, d_decoder, num_layers, dropout)
        self.state_projection = self.encoder_output_projection = None
        if d_encoder != d_decoder:
            self.state_projection = nn.ModuleDict({"h_proj": nn.Linear(d_encoder, d_decoder),
                                                   "c_proj": nn.Linear(d_encoder, d_decoder)})
            self.encoder_output_projection = nn.Linear(d_encoder, d_decoder)
        self.attention = InterpretableMultiHeadAttention(d_decoder, num_heads, dropout)
        self.gate_add_norm = GateAddNorm(d_decoder, dropout=dropout, trainable_add=trainable_add) if use_gating else None
        self.layer_norm = None if use_gating else nn.LayerNorm(d_decoder)
        self.output_head = nn.Linear(d_decoder, output_dim)

    def forward(self, past_sequence, future_sequence, encoder_lengths=None, decoder_lengths=None):
        packing = _resolve(self, "attention_lstm", past_sequence, encoder_lengths)
        encoded, state = run_lstm(self.encoder, past_sequence, encoder_lengths, packing, encoder=True)
        decoded, _ = run_lstm(self.decoder, future_sequence, decoder_lengths, packing, encoder=False,
                              state=_project(self.state_projection, state))
        mask = _attention_mask(encoder_lengths, decoder_lengths, past_sequence.size(1), future_sequence.size(1),
                               self.causal_attention)
        if self.encoder_output_projection is not None:
            encoded = self.encoder_output_projection(encoded)
        keys = torch.cat((encoded, decoded), dim=-2)
        attended = self.attention(decoded, keys, keys, mask=mask)
        if self.gate_add_norm is not None:
            combined = self.gate_add_norm(attended, decoded)
        else:
            combined = self.layer_norm(decoded + attended)
        return _real_steps_only(self, self.output_head(combined), decoder_lengths)


class EncoderDecoderLSTM(nn.Module):
    default_criterion = {"criterion": "torch.nn.MSELoss"}

    def __init__(self, num_past_features, num_future_features, d_encoder=128, d_decoder=128, num_encoder_layers=2,
                 num_decoder_layers=2, dropout=0.1, d_mlp_hidden=None, output_dim=1, mlp_activation="relu",
                 mlp_dropout=0.1, packing="auto"):
        super().__init__()
        self.packing = packing
        self.encoder = _lstm(num_past_features, d_encoder, num_encoder_layers, dropout)
        self.decoder = _lstm(num_future_features, d_decoder, num_decoder_layers, dropout)
        self.state_projection = None
        if d_encoder != d_decoder:
            self.state_projection = nn.ModuleDict({"h_proj": nn.Linear(d_encoder, d_decoder),
                                                   "c_proj": nn.Linear(d_encoder, d_decoder)})
        if d_mlp_hidden is not None:
            self.mlp_head = MLP(d_decoder, d_mlp_hidden, output_dim, mlp_dropout, mlp_activation)
        else:
            self.mlp_head = nn.Linear(d_decoder, output_dim)

    def forward(self, past_sequence, future_sequence, encoder_lengths=None, decoder_lengths=None):
        packing = _resolve(self, "encoder_decoder_lstm", past_sequence, encoder_lengths)
        _, state = run_lstm(self.encoder, past_sequence, encoder_lengths, packing, encoder=True)
        decoded, _ = run_lstm(self.decoder, future_sequence, decoder_lengths, packing, encoder=False,
                              state=_project(self.state_projection, state))
        return _real_steps_only(self, self.mlp_head(decoded), decoder_lengths)


class TransformerBlock(nn.Module):
    def __init__(self, d_model, num_heads, dropout=0.1):
        super().__init__()
        self.encoder_self_attention = InterpretableMultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attention = InterpretableMultiHeadAttention(d_model, num_heads, dropout)
        self.encoder_gate_add_norm = GateAddNorm(d_model, d_model, dropout)
        self.decoder_gate_add_norm = GateAddNorm(d_model, d_model, dropout)

    def forward(self, encoder_output, decoder_output, attention_mask=None, encoder_lengths=None):
        self_mask = None
        if encoder_lengths is not None:
            steps = encoder_output.size(1)
            full = masks.get_attention_mask(encoder_lengths, encoder_lengths, steps, steps, causal_attention=False)
            self_mask = full[:, :, :steps]
        attended = self.encoder_self_attention(encoder_output, encoder_output, encoder_output, mask=self_mask)
        encoder_output = self.encoder_gate_add_norm(attended, encoder_output)
        memory = torch.cat([encoder_output, decoder_output], dim=1)
        crossed = self.cross_attention(decoder_output, memory, memory, mask=attention_mask)
        return encoder_output, self.decoder_gate_add_norm(crossed, decoder_output)


class TransformerLSTM(nn.Module):
    default_criterion = {"criterion": "MSELoss"}

    def __init__(self, num_past_features, num_future_features, d_model=128, num_layers=2, num_transformer_blocks=2,
                 dropout=0.1, num_heads=4, output_dim=1, causal_attention=True, share_lstm_weights=False,
                 packing="auto"):
        super().__init__()
        self.causal_attention, self.packing = causal_attention, packing
        self.encoder_grn = GatedResidualNetwork(num_past_features, d_model, d_hidden=d_model, dropout=dropout)
        self.decoder_grn = GatedResidualNetwork(num_future_features, d_model, d_hidden=d_model, dropout=dropout)
        self.encoder = _lstm(d_model, d_model, num_layers, dropout)
        self.decoder = self.encoder if share_lstm_weights else _lstm(d_model, d_model, num_layers, dropout)
        self.transformer_blocks = nn.ModuleList(TransformerBlock(d_model, num_heads, dropout)
                                                for _ in range(num_transformer_blocks))
        self.output_head = nn.Linear(d_model, output_dim)

    def forward(self, past_sequence, future_sequence, encoder_lengths=None, decoder_lengths=None):
        packing = _resolve(self, "transformer_lstm", past_sequence, encoder_lengths)
        embedded = self.encoder_grn(past_sequence)
        encoded, state = run_lstm(self.encoder, embedded, encoder_lengths, packing, encoder=True)
        encoded = encoded + embedded
        embedded = self.decoder_grn(future_sequence)
        decoded, _ = run_lstm(self.decoder, embedded, decoder_lengths, packing, encoder=False, state=state)
        decoded = decoded + embedded
        mask = _attention_mask(encoder_lengths, decoder_lengths, past_sequence.size(1), future_sequence.size(1),
                               self.causal_attention)
        for block in self.transformer_blocks:
            encoded, decoded = block(encoded, decoded, mask, encoder_lengths)
        return _real_steps_only(self, self.output_head(decoded), decoder_lengths)
