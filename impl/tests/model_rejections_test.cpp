// The bad-input policy for the models: options, inputs and weights.
#include "model_test_helpers.h"
#include "seqpack/models/attention_lstm.h"
#include "seqpack/models/encoder_decoder_lstm.h"
#include "seqpack/models/transformer_lstm.h"
#include "seqpack/models/state_dict.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

using namespace models;
using testing::batch;

TEST(ModelRejections, HeadsMustDivideTheWidth) {
  EXPECT_REJECTS(AttentionLSTMImpl(AttentionLSTMOptions(2, 2).d_model(10).num_heads(4)), "num_heads", "d_decoder = 10");
  EXPECT_REJECTS(TransformerLSTMImpl(TransformerLSTMOptions(2, 2).d_model(6).num_heads(4)), "num_heads", "d_model = 6");
}
TEST(ModelRejections, SizesMustBePositive) {
  EXPECT_REJECTS(AttentionLSTMImpl(AttentionLSTMOptions(0, 2)), "num_past_features", "at least 1");
  // The campaign found d_model = -1 reported as "d_encoder", a parameter the user never gave.
  EXPECT_REJECTS(AttentionLSTMImpl(AttentionLSTMOptions(2, 2).d_model(-1)), "d_model: must be at least 1");
  EXPECT_REJECTS(AttentionLSTMImpl(AttentionLSTMOptions(2, 2).d_encoder(0)), "d_encoder: must be at least 1");
  EXPECT_REJECTS(EncoderDecoderLSTMImpl(EncoderDecoderLSTMOptions(2, 2).d_mlp_hidden({4, 0})), "d_mlp_hidden");
  EXPECT_REJECTS(TransformerLSTMImpl(TransformerLSTMOptions(2, 2).num_transformer_blocks(-1)), "num_transformer_blocks");
}
TEST(ModelRejections, EncoderAndDecoderLayersMustAgree) {
  EXPECT_REJECTS(EncoderDecoderLSTMImpl(EncoderDecoderLSTMOptions(2, 2).num_encoder_layers(2).num_decoder_layers(1)),
                 "num_decoder_layers", "num_encoder_layers = 2");
}
TEST(ModelRejections, UnknownActivationAndPacking) {
  EXPECT_REJECTS(EncoderDecoderLSTMImpl(EncoderDecoderLSTMOptions(2, 2).d_mlp_hidden({4}).mlp_activation("swish")),
                 "mlp_activation", "swish");
  EXPECT_REJECTS(parse_packing("sometimes", "packing"), "packing", "sometimes");
}

class ModelInputRejections : public ::testing::Test {
 protected:
  void SetUp() override { at::manual_seed(0); }
  std::shared_ptr<ForecastModel> model = testing::small_model("AttentionLSTM");
  ModelInputs good = batch({4, 2}, {3, 1}, 4, 3);
};

TEST_F(ModelInputRejections, Rank) {
  good.past_sequence = good.past_sequence.flatten(1);
  EXPECT_REJECTS(model->forward(good), "past_sequence", "(B, T, features)");
}
TEST_F(ModelInputRejections, FeatureCount) {
  good.future_sequence = at::zeros({2, 3, 5}, at::kDouble);
  EXPECT_REJECTS(model->forward(good), "future_sequence", "2 features");
}
TEST_F(ModelInputRejections, Dtype) {
  good.past_sequence = good.past_sequence.to(at::kFloat);
  EXPECT_REJECTS(model->forward(good), "past_sequence", "Double");
}
TEST_F(ModelInputRejections, BatchSizes) {
  good.future_sequence = good.future_sequence.slice(0, 0, 1);
  EXPECT_REJECTS(model->forward(good), "future_sequence", "batch size 2");
}
TEST_F(ModelInputRejections, NegativeLength) {
  good.encoder_lengths = at::tensor({4, -1});
  EXPECT_REJECTS(model->forward(good), "encoder_lengths", "row 1");
}
TEST_F(ModelInputRejections, LengthAboveT) {
  good.decoder_lengths = at::tensor({4, 1});
  EXPECT_REJECTS(model->forward(good), "decoder_lengths", "T = 3", "row 0");
}
TEST_F(ModelInputRejections, EmptySequence) {
  good.future_sequence = at::zeros({2, 0, 2}, at::kDouble);
  good.decoder_lengths.reset();
  EXPECT_REJECTS(model->forward(good), "future_sequence", "at least one");
}

TEST(WeightRejections, ListsEveryProblemAndChangesNothing) {
  at::manual_seed(0);
  auto model = testing::small_model("EncoderDecoderLSTM");
  const auto before = state_dict(*model);
  auto weights = before;
  weights.erase("encoder.weight_hh_l0");
  weights.erase("decoder.bias_ih_l1");
  weights["decoder.extra"] = at::zeros({1});
  weights["mlp_head.mlp.0.weight"] = at::zeros({2, 2}, at::kDouble);
  weights["mlp_head.mlp.2.bias"] = at::ones({1}, at::kDouble) * 7;  // a correct one, not applied
  EXPECT_REJECTS(load_state_dict(*model, weights), "weights", "missing [decoder.bias_ih_l1, encoder.weight_hh_l0]",
                 "unexpected [decoder.extra]", "mlp_head.mlp.0.weight (expected [5, 8], got [2, 2])");
  for (const auto& [name, tensor] : state_dict(*model)) EXPECT_TRUE(at::equal(tensor, before.at(name))) << name;
}

TEST(WeightRejections, DtypesAreNotCastSilently) {
  at::manual_seed(0);
  auto model = testing::small_model("EncoderDecoderLSTM");
  const auto before = state_dict(*model);
  auto weights = before;
  weights["mlp_head.mlp.2.bias"] = weights["mlp_head.mlp.2.bias"].to(at::kLong);  // was cast and accepted
  EXPECT_REJECTS(load_state_dict(*model, weights), "weights", "wrong dtype [mlp_head.mlp.2.bias (expected a floating");
  auto half = before;
  for (auto& [name, tensor] : half) tensor = tensor.to(at::kHalf);
  EXPECT_REJECTS(load_state_dict(*model, half), "weights", "must be float32 or float64");
  for (const auto& [name, tensor] : state_dict(*model)) EXPECT_TRUE(at::equal(tensor, before.at(name))) << name;
}

}  // namespace
}  // namespace seqpack
