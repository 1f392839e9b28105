#pragma once
// Small float64 LSTM-family models and left-aligned batches for the model tests.
#include <ATen/ATen.h>

#include <memory>
#include <vector>

#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/encoder_decoder_lstm.h"
#include "seqpack/models/transformer_lstm.h"

namespace seqpack::testing {

constexpr int64_t kPast = 3, kFuture = 2;

inline std::vector<std::pair<std::string, std::shared_ptr<models::ForecastModel>>> small_models(
    models::Packing packing, double dropout = 0.0,
    models::PackedLstm packed_lstm = models::PackedLstm::PyTorch) {
  using namespace models;
  std::vector<std::pair<std::string, std::shared_ptr<ForecastModel>>> all{
      {"AttentionLSTM", std::make_shared<AttentionLSTMImpl>(AttentionLSTMOptions(kPast, kFuture)
                                                                .d_model(8)
                                                                .num_heads(2)
                                                                .dropout(dropout)
                                                                .packing(packing)
                                                                .packed_lstm(packed_lstm))},
      {"EncoderDecoderLSTM",
       std::make_shared<EncoderDecoderLSTMImpl>(EncoderDecoderLSTMOptions(kPast, kFuture)
                                                    .d_encoder(6)
                                                    .d_decoder(8)
                                                    .d_mlp_hidden({5})
                                                    .dropout(dropout)
                                                    .mlp_dropout(dropout)
                                                    .packing(packing).packed_lstm(packed_lstm))},
      {"TransformerLSTM", std::make_shared<TransformerLSTMImpl>(TransformerLSTMOptions(kPast, kFuture)
                                                                    .d_model(8)
                                                                    .num_heads(2)
                                                                    .dropout(dropout)
                                                                    .packing(packing)
                                                                    .packed_lstm(packed_lstm))},
  };
  for (auto& [name, model] : all) {
    model->to(at::kDouble);
    model->eval();
  }
  return all;
}

// Row i holds lengths[i] random steps from step 0, zeros after.
inline at::Tensor left_aligned(const std::vector<int64_t>& lengths, int64_t steps, int64_t features) {
  auto x = at::randn({static_cast<int64_t>(lengths.size()), steps, features}, at::kDouble);
  for (size_t row = 0; row < lengths.size(); ++row) x[row].slice(0, lengths[row]).zero_();
  return x;
}

inline models::ModelInputs batch(const std::vector<int64_t>& encoder, const std::vector<int64_t>& decoder,
                                 int64_t te, int64_t td) {
  return {left_aligned(encoder, te, kPast), left_aligned(decoder, td, kFuture), at::tensor(encoder, at::kLong),
          at::tensor(decoder, at::kLong)};
}

}  // namespace seqpack::testing
