"""The models of transformertf, restated from their architecture on PyTorch."""
from .lstm_family import AttentionLSTM, EncoderDecoderLSTM, TransformerLSTM
from .tft_family import PFTemporalFusionTransformer, TemporalFusionTransformer, xTFT

MODELS = {"model.attention_lstm": AttentionLSTM, "model.encoder_decoder_lstm": EncoderDecoderLSTM,
          "model.transformer_lstm": TransformerLSTM,
          "model.tft": TemporalFusionTransformer, "model.pftft": PFTemporalFusionTransformer, "model.xtft": xTFT}
