"""TemporalFusionTransformer, PFTemporalFusionTransformer and xTFT (transformertf models/
temporal_fusion_transformer, pf_tft and xtft at 8842cb8), restated from their architecture with the
original's state_dict names. Encoders are right-aligned (the last real step touches the decoder);
decoders left-aligned. Where seqpack defines what the original leaves broken or open:

- the encoder's padded steps are read as zeros (the original's data module writes zeros there;
  other values would reach the valid steps through the encoder LSTM, which runs over the padding);
- lengths are step counts for all three (PFTFT's model multiplies them by T, expecting fractions,
  while its Lightning module passes counts: every row of length >= 1 then masks nothing);
- without static covariates the zero static embedding takes the input's dtype (the original's is
  always float32);
- xTFT takes the attention's weights with return_attn=True (its forward unpacks two values from a
  call that returns one tensor) and treats absent lengths as full, as TFT does;
- encoder_alignment="left" takes a left-aligned encoder and moves it to the right first.
"""
from __future__ import annotations

import torch
from torch import nn

from .. import masks, sequence
from .blocks import AddNorm, GatedLinearUnit, GatedResidualNetwork, InterpretableMultiHeadAttention, VariableSelection

QUANTILE_CRITERION = {"criterion": "QuantileLoss"}


def _square_grn(dim, dropout, context_dim=None):
    return GatedResidualNetwork(dim, dim, d_hidden=dim, context_dim=context_dim, dropout=dropout,
                                projection="interpolate")


def _lstm(d_model, layers, dropout):
    return nn.LSTM(d_model, d_model, num_layers=layers, dropout=dropout if layers > 1 else 0.0, batch_first=True)


def _full_lengths(lengths, batch, steps):
    return lengths.reshape(-1) if lengths is not None else torch.full((batch,), steps)


def _right_aligned_encoder(past, encoder_lengths, encoder_alignment):
    if encoder_alignment not in ("left", "right"):
        raise ValueError(f"encoder_alignment must be 'left' or 'right', got '{encoder_alignment}'")
    if encoder_alignment == "left":
        past = sequence.align_encoder_sequences(past, encoder_lengths, alignment="right", source="left")
    valid = masks.create_mask(past.size(1), encoder_lengths, alignment="right", inverse=True)
    return torch.where(valid.unsqueeze(-1), past, torch.zeros((), dtype=past.dtype))


def tft_static_covariates(encoder_lengths, ctxt_seq_len, dtype):
    """TFT's Lightning module's static covariate: the encoder length scaled to [-1, 1]."""
    return encoder_lengths.reshape(-1, 1).to(dtype) * 2 / ctxt_seq_len - 1


def pftft_static_covariates(encoder_lengths, dtype):
    """PFTFT's Lightning module's static covariate: the encoder length over the batch's longest."""
    lengths = encoder_lengths.reshape(-1, 1).to(dtype)
    return lengths / lengths.max().clamp(min=1)


class _TemporalFusionCore(nn.Module):
    """What all three share: variable selection, encoder and decoder LSTMs with one gate and norm,
    interpretable attention of the decoder steps over [encoder, decoder], and the output gates."""

    default_criterion = QUANTILE_CRITERION
    default_use_loss_masking = False

    def __init__(self, num_past_features, num_future_features, d_model, d_hidden_continuous, num_heads,
                 num_lstm_layers, dropout, output_dim, causal_attention, encoder_alignment, context):
        super().__init__()
        self.d_model, self.num_lstm_layers = d_model, num_lstm_layers
        self.causal_attention, self.encoder_alignment = causal_attention, encoder_alignment
        context_size = d_model if context else None
        self.enc_vs = VariableSelection(num_past_features, d_hidden_continuous, d_model, context_size, dropout)
        self.dec_vs = VariableSelection(num_future_features, d_hidden_continuous, d_model, context_size, dropout)
        self._static_modules(d_model, d_hidden_continuous, dropout)
        self.enc_lstm = _lstm(d_model, num_lstm_layers, dropout)
        self.dec_lstm = _lstm(d_model, num_lstm_layers, dropout)
        self.enc_gate1 = GatedLinearUnit(d_model, dropout=dropout)
        self.dec_gate1 = self.enc_gate1
        self.enc_norm1 = AddNorm(d_model, trainable_add=False)
        self.dec_norm1 = self.enc_norm1
        if context:
            self.static_enrichment = _square_grn(d_model, dropout, context_dim=d_model)
        self.attn = InterpretableMultiHeadAttention(d_model, num_heads, dropout)
        self.attn_gate1 = GatedLinearUnit(d_model, dropout=dropout)
        self.attn_norm1 = AddNorm(d_model, trainable_add=False)
        self.attn_grn = _square_grn(d_model, dropout)
        self.attn_gate2 = GatedLinearUnit(d_model, dropout=0.0)
        self.attn_norm2 = AddNorm(d_model, trainable_add=False)
        self.output_layer = nn.Linear(d_model, output_dim)

    def _static_modules(self, d_model, d_hidden_continuous, dropout):
        pass

    def _encode(self, past, future, static_covariates):
        """(attention input (B, Te+Td, d_model), decoder output (B, Td, d_model))."""
        raise NotImplementedError

    def _lstms(self, past_vs, future_vs, state):
        encoded, state = self.enc_lstm(past_vs, state)
        decoded, _ = self.dec_lstm(future_vs, state)
        return self.enc_norm1(self.enc_gate1(encoded), past_vs), self.dec_norm1(self.dec_gate1(decoded), future_vs)

    def forward(self, past_covariates, future_covariates, static_covariates=None, encoder_lengths=None,
                decoder_lengths=None):
        batch, te, td = past_covariates.size(0), past_covariates.size(1), future_covariates.size(1)
        encoder_lengths = _full_lengths(encoder_lengths, batch, te)
        decoder_lengths = _full_lengths(decoder_lengths, batch, td)
        past = _right_aligned_encoder(past_covariates, encoder_lengths, self.encoder_alignment)
        attn_input, decoded = self._encode(past, future_covariates, static_covariates)
        mask = masks.get_attention_mask(encoder_lengths, decoder_lengths, te, td,
                                        causal_attention=self.causal_attention, encoder_alignment="right")
        queries = attn_input[:, te:]
        attended = self.attn_norm1(self.attn_gate1(self.attn(queries, attn_input, attn_input, mask=mask)), queries)
        attended = self.attn_norm2(self.attn_gate2(self.attn_grn(attended)), decoded)
        return self.output_layer(attended)


class _StaticContextModel(_TemporalFusionCore):
    """TFT and PFTFT: static covariates select a static embedding that sets the variable selection's
    context, the LSTMs' initial state and the static enrichment before attention."""

    def __init__(self, num_past_features, num_future_features, d_model=300, d_hidden_continuous=8, num_heads=4,
                 num_lstm_layers=2, dropout=0.1, output_dim=7, causal_attention=True, num_static_features=0,
                 encoder_alignment="right"):
        # 0 as the original's model classes; their Lightning modules pass 1 (registry.py's
        # LIGHTNING_STATIC_FEATURES), and so do the goldens.
        self.num_static_features = num_static_features
        super().__init__(num_past_features, num_future_features, d_model, d_hidden_continuous, num_heads,
                         num_lstm_layers, dropout, output_dim, causal_attention, encoder_alignment, context=True)

    def _static_modules(self, d_model, d_hidden_continuous, dropout):
        self.static_vs = VariableSelection(self.num_static_features, d_hidden_continuous, d_model, None, dropout)
        self.static_ctxt_vs = _square_grn(d_model, dropout)
        self.static_ctxt_enrichment = _square_grn(d_model, dropout)
        self.lstm_init_hidden = _square_grn(d_model, dropout)
        self.lstm_init_cell = _square_grn(d_model, dropout)

    def _encode(self, past, future, static_covariates):
        if static_covariates is None:
            static = torch.zeros(past.size(0), self.d_model, dtype=past.dtype, device=past.device)
        elif self.num_static_features == 0:
            raise ValueError("static_covariates are not taken: the model was built with num_static_features = 0")
        else:
            static = self.static_vs(static_covariates)
        context = self.static_ctxt_vs(static).unsqueeze(1)
        past_vs = self.enc_vs(past, context.expand(-1, past.size(1), -1))
        future_vs = self.dec_vs(future, context.expand(-1, future.size(1), -1))
        layers = self.num_lstm_layers
        state = tuple(grn(static).unsqueeze(0).expand(layers, -1, -1).contiguous()
                      for grn in (self.lstm_init_hidden, self.lstm_init_cell))
        encoded, decoded = self._lstms(past_vs, future_vs, state)
        both = torch.cat([encoded, decoded], dim=1)
        enrichment = self.static_ctxt_enrichment(static).unsqueeze(1).expand(-1, both.size(1), -1)
        return self.static_enrichment(both, enrichment), decoded


class TemporalFusionTransformer(_StaticContextModel):
    """ctxt_seq_len and tgt_seq_len only scale the Lightning module's static covariate."""

    def __init__(self, num_past_features, num_future_features, ctxt_seq_len, tgt_seq_len, **kwargs):
        self.ctxt_seq_len, self.tgt_seq_len = ctxt_seq_len, tgt_seq_len
        super().__init__(num_past_features, num_future_features, **kwargs)



class PFTemporalFusionTransformer(_StaticContextModel):
    """TFT's architecture; its Lightning module differs (see pftft_static_covariates)."""


class xTFT(_TemporalFusionCore):  # noqa: N801 (the original's name)
    """No static covariates: the LSTMs start from zeros and nothing enriches the attention input."""

    def __init__(self, num_past_features, num_future_features, d_model=300, d_hidden_continuous=8, num_heads=4,
                 num_lstm_layers=2, dropout=0.1, output_dim=7, causal_attention=True, encoder_alignment="right"):
        super().__init__(num_past_features, num_future_features, d_model, d_hidden_continuous, num_heads,
                         num_lstm_layers, dropout, output_dim, causal_attention, encoder_alignment, context=False)

    def _encode(self, past, future, static_covariates):
        if static_covariates is not None:
            raise ValueError("xTFT takes no static_covariates")
        encoded, decoded = self._lstms(self.enc_vs(past), self.dec_vs(future), None)
        return torch.cat([encoded, decoded], dim=1), decoded
