"""One descriptor per model: what the cases, the CLI checks, the export and the benchmarks need to
know about a model, stated once. Adding a model on the Python side is its class plus one entry in
SPECS; everything else iterates SPECS (or looks an op up in MODEL_SPECS)."""
from __future__ import annotations

import dataclasses
import inspect
from typing import Callable, Mapping

from .lstm_family import AttentionLSTM, EncoderDecoderLSTM, TransformerLSTM
from .tft_family import (PFTemporalFusionTransformer, TemporalFusionTransformer, pftft_static_covariates,
                         tft_static_covariates, xTFT)

LSTM_INPUTS = ("past_sequence", "future_sequence", "encoder_lengths", "decoder_lengths")
TFT_INPUTS = ("past_covariates", "future_covariates", "static_covariates", "encoder_lengths", "decoder_lengths")
# The Lightning modules of TFT and PFTFT build their models with one static feature (the encoder
# length, scaled); the model classes themselves default to none.
LIGHTNING_STATIC_FEATURES = 1


@dataclasses.dataclass(frozen=True)
class GoldenConfig:
    """One configuration the goldens run a model in."""
    model: Mapping           # hyperparameters (the LSTM family's goldens add 3 past and 2 future features)
    loss: Mapping = dataclasses.field(default_factory=dict)  # calc_loss params beyond the model's default
    left_aligned: bool = False     # TFT family: the encoder arrives left-aligned (encoder_alignment="left")
    nonzero_padding: bool = False  # TFT family: the encoder's padded steps hold noise, to be read as zeros


def _no_window_params(encoder_steps: int, decoder_steps: int) -> dict:
    return {}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    op: str                   # the op `seqpack eval` and the goldens name it by, e.g. "model.tft"
    model_class: type
    family: str               # "lstm": LSTMs with packed and padded paths (packing=...); "tft": the TFT family
    inputs: tuple             # the forward's inputs, in its order
    configs: Mapping          # name -> GoldenConfig; "small" is the one other checks use too
    # How the Lightning module makes the static covariates, (encoder_lengths, params, dtype) -> (B, 1);
    # None: the model takes none.
    static_covariates: Callable | None = None
    # Params that follow from the window's encoder and decoder steps (TFT's ctxt_seq_len, tgt_seq_len).
    window_params: Callable[[int, int], dict] = _no_window_params
    # Whether it can train under float16 autocast: attention that fills masked scores with -1e9 (beyond
    # float16's range) fails there, in PyTorch as in seqpack (impl/tests/precision_test.cpp pins it), so
    # the benchmarks ask float16 only of the models without it.
    float16_autocast: bool = False

    @property
    def name(self) -> str:
        """The op without "model.": the goldens' folder and the benchmarks' model name."""
        return self.op.removeprefix("model.")

    @property
    def static_params(self) -> dict:
        """The params that size the static covariates, as the Lightning module passes them."""
        return {"num_static_features": LIGHTNING_STATIC_FEATURES} if self.static_covariates else {}

    @property
    def required_params(self) -> set[str]:
        """The constructor's arguments without a default."""
        signature = inspect.signature(self.model_class.__init__)
        return {name for name, p in signature.parameters.items()
                if name != "self" and p.default is inspect.Parameter.empty
                and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}

    @property
    def optional_inputs(self) -> set[str]:
        """The forward's inputs it can go without (all but the two sequences)."""
        return set(self.inputs[2:])


_TFT_FAMILY_CONFIGS = {
    "small": GoldenConfig({"num_past_features": 3, "num_future_features": 2, "d_model": 8, "d_hidden_continuous": 4,
                           "num_heads": 2, "num_lstm_layers": 1}),
    "two_layers_noncausal_three_quantiles": GoldenConfig(
        {"num_past_features": 4, "num_future_features": 1, "d_model": 12, "d_hidden_continuous": 3, "num_heads": 3,
         "num_lstm_layers": 2, "causal_attention": False, "output_dim": 3},
        loss={"criterion": "QuantileLoss", "quantiles": [0.9, 0.1, 0.5]}),
    "left_aligned_masked_loss": GoldenConfig(
        {"num_past_features": 2, "num_future_features": 3, "d_model": 8, "d_hidden_continuous": 2, "num_heads": 1,
         "num_lstm_layers": 2, "encoder_alignment": "left"},
        loss={"use_loss_masking": True}, left_aligned=True),
    "nonzero_padding": GoldenConfig(
        {"num_past_features": 3, "num_future_features": 2, "d_model": 8, "d_hidden_continuous": 4, "num_heads": 2,
         "num_lstm_layers": 1}, nonzero_padding=True),
}

SPECS = [
    ModelSpec("model.attention_lstm", AttentionLSTM, "lstm", LSTM_INPUTS, {
        "small": GoldenConfig({"d_model": 8, "num_layers": 1, "num_heads": 2}),
        "projected_two_layers": GoldenConfig({"d_model": 16, "d_encoder": 12, "num_layers": 2, "num_heads": 4,
                                              "use_gating": False, "causal_attention": False, "output_dim": 2}),
        "trainable_add": GoldenConfig({"d_model": 8, "num_layers": 2, "num_heads": 1, "trainable_add": True}),
    }),
    ModelSpec("model.encoder_decoder_lstm", EncoderDecoderLSTM, "lstm", LSTM_INPUTS, {
        "small": GoldenConfig({"d_encoder": 8, "d_decoder": 8, "num_encoder_layers": 1, "num_decoder_layers": 1}),
        "projected_mlp": GoldenConfig({"d_encoder": 12, "d_decoder": 16, "d_mlp_hidden": [10, 6],
                                       "mlp_activation": "gelu", "mlp_dropout": 0.0, "output_dim": 2}),
        "mlp_one_layer": GoldenConfig({"d_encoder": 8, "d_decoder": 8, "d_mlp_hidden": 5, "mlp_activation": "tanh",
                                       "mlp_dropout": 0.0}),
    }, float16_autocast=True),
    ModelSpec("model.transformer_lstm", TransformerLSTM, "lstm", LSTM_INPUTS, {
        "small": GoldenConfig({"d_model": 8, "num_layers": 1, "num_transformer_blocks": 1, "num_heads": 2}),
        "two_blocks_shared_lstm": GoldenConfig({"d_model": 16, "num_layers": 2, "num_transformer_blocks": 2,
                                                "num_heads": 4, "share_lstm_weights": True,
                                                "causal_attention": False}),
        "no_blocks": GoldenConfig({"d_model": 8, "num_transformer_blocks": 0, "output_dim": 2}),
    }),
    ModelSpec("model.tft", TemporalFusionTransformer, "tft", TFT_INPUTS, _TFT_FAMILY_CONFIGS,
              static_covariates=lambda lengths, params, dtype: tft_static_covariates(lengths, params["ctxt_seq_len"],
                                                                                     dtype),
              window_params=lambda encoder_steps, decoder_steps: {"ctxt_seq_len": encoder_steps,
                                                                  "tgt_seq_len": decoder_steps}),
    ModelSpec("model.pftft", PFTemporalFusionTransformer, "tft", TFT_INPUTS, _TFT_FAMILY_CONFIGS,
              static_covariates=lambda lengths, params, dtype: pftft_static_covariates(lengths, dtype)),
    ModelSpec("model.xtft", xTFT, "tft", TFT_INPUTS[:2] + TFT_INPUTS[3:], _TFT_FAMILY_CONFIGS),
]
MODEL_SPECS = {spec.op: spec for spec in SPECS}


def specs(family: str | None = None) -> list[ModelSpec]:
    """Every model's descriptor, or one family's, in SPECS's order."""
    return [spec for spec in SPECS if family is None or spec.family == family]


def small_params(spec: ModelSpec, encoder_steps: int, decoder_steps: int) -> dict:
    """The small configuration's full constructor params, dropout off, at 3 past and 2 future features."""
    return {"num_past_features": 3, "num_future_features": 2, "dropout": 0.0, **spec.configs["small"].model,
            **spec.window_params(encoder_steps, decoder_steps), **spec.static_params}
