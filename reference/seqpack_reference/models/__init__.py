"""The LSTM-family models of transformertf, restated from their architecture on PyTorch."""
from .lstm_family import AttentionLSTM, EncoderDecoderLSTM, TransformerLSTM

MODELS = {"model.attention_lstm": AttentionLSTM, "model.encoder_decoder_lstm": EncoderDecoderLSTM,
          "model.transformer_lstm": TransformerLSTM}
