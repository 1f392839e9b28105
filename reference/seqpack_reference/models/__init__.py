"""The models of transformertf, restated from their architecture on PyTorch; registry.py describes
each one (MODEL_SPECS, keyed by op)."""
from .lstm_family import AttentionLSTM, EncoderDecoderLSTM, TransformerLSTM
from .registry import MODEL_SPECS, SPECS, GoldenConfig, ModelSpec, small_params, specs
from .tft_family import PFTemporalFusionTransformer, TemporalFusionTransformer, xTFT
