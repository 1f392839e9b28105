// What the LSTM-family models guarantee on any batch: the packed path computes each row as if it
// were alone and unpadded; packed and padded agree when nothing is padded; padded decoder steps
// get no gradient from the masked loss; dropout acts only in training; weights round-trip.
#include <gtest/gtest.h>

#include "model_test_helpers.h"
#include "seqpack/models/lstm_path.h"
#include "seqpack/models/state_dict.h"
#include "seqpack/models/training_step.h"

namespace seqpack {
namespace {

using models::Packing;
using testing::batch;

const std::vector<int64_t> kEncoder{7, 3, 5, 1, 6}, kDecoder{5, 2, 4, 1, 5};

TEST(ModelProperties, PackedRowEqualsTheRowAloneUnpadded) {
  at::manual_seed(1);
  const auto in = batch(kEncoder, kDecoder, 7, 5);
  for (auto& [name, model] : testing::small_models(Packing::Always)) {
    const auto output = model->forward(in);
    for (size_t row = 0; row < kEncoder.size(); ++row) {
      const auto le = kEncoder[row], ld = kDecoder[row];
      const models::ModelInputs alone{in.past_sequence.slice(0, row, row + 1).slice(1, 0, le),
                                      in.future_sequence.slice(0, row, row + 1).slice(1, 0, ld),
                                      at::tensor({le}), at::tensor({ld})};
      const auto expected = model->forward(alone);
      EXPECT_TRUE(at::allclose(output.slice(0, row, row + 1).slice(1, 0, ld), expected, 1e-10, 1e-12))
          << name << ", row " << row;
    }
  }
}

TEST(ModelProperties, PackedRowOfLengthZeroIsAsIfAbsent) {
  // PyTorch refuses to pack a row of length 0; seqpack runs no LSTM step for it, so every row of
  // the batch computes what it computes alone (B = 1, the same padded T).
  at::manual_seed(5);
  const std::vector<int64_t> encoder{7, 0, 5, 0}, decoder{5, 2, 0, 0};
  const auto in = batch(encoder, decoder, 7, 5);
  for (auto& [name, model] : testing::small_models(Packing::Always)) {
    const auto output = model->forward(in);
    for (int64_t row = 0; row < 4; ++row) {
      const models::ModelInputs alone{in.past_sequence.slice(0, row, row + 1), in.future_sequence.slice(0, row, row + 1),
                                      in.encoder_lengths->slice(0, row, row + 1), in.decoder_lengths->slice(0, row, row + 1)};
      EXPECT_TRUE(at::allclose(output.slice(0, row, row + 1), model->forward(alone), 1e-10, 1e-12))
          << name << ", row " << row;
    }
  }
}

TEST(ModelProperties, LstmRunOfLengthZeroGivesZeroOutputAndKeepsItsState) {
  at::manual_seed(6);
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(3, 4).num_layers(2).batch_first(true));
  lstm->to(at::kDouble);
  const auto x = testing::left_aligned({5, 0, 3}, 5, 3);
  const auto lengths = at::tensor({5, 0, 3});
  const models::LstmState initial{at::randn({2, 3, 4}, at::kDouble), at::randn({2, 3, 4}, at::kDouble)};
  for (const auto packed_lstm : {models::PackedLstm::PyTorch, models::PackedLstm::Segments, models::PackedLstm::Stepwise}) {
    for (const auto& start : {std::optional<models::LstmState>{}, std::optional{initial}}) {
      const auto run =
          models::run_lstm(lstm, x, lengths, Packing::Always, packed_lstm, models::LstmRole::Decoder, start);
      EXPECT_TRUE(at::equal(run.output[1], at::zeros({5, 4}, at::kDouble)));
      const auto h1 = std::get<0>(run.state).select(1, 1), c1 = std::get<1>(run.state).select(1, 1);
      EXPECT_TRUE(at::equal(h1, start ? std::get<0>(initial).select(1, 1) : at::zeros({2, 4}, at::kDouble)));
      EXPECT_TRUE(at::equal(c1, start ? std::get<1>(initial).select(1, 1) : at::zeros({2, 4}, at::kDouble)));
      EXPECT_FALSE(at::equal(run.output[0], at::zeros({5, 4}, at::kDouble)));  // the others did run
    }
    const auto none =
        models::run_lstm(lstm, x, at::zeros({3}, at::kLong), Packing::Always, packed_lstm, models::LstmRole::Encoder);
    EXPECT_TRUE(at::equal(none.output, at::zeros({3, 5, 4}, at::kDouble)));
  }
}

TEST(ModelProperties, PaddedPathCarriesStateThroughThePadding) {
  at::manual_seed(2);
  const auto in = batch(kEncoder, kDecoder, 7, 5);
  for (auto& [name, model] : testing::small_models(Packing::Never)) {
    // Row 1 (encoder length 3 of 7) alone differs: its padded run read four steps of zeros.
    const models::ModelInputs alone{in.past_sequence.slice(0, 1, 2).slice(1, 0, 3),
                                    in.future_sequence.slice(0, 1, 2).slice(1, 0, 2), at::tensor({3}), at::tensor({2})};
    EXPECT_FALSE(at::allclose(model->forward(in).slice(0, 1, 2).slice(1, 0, 2), model->forward(alone), 1e-6, 1e-8))
        << name;
  }
}

TEST(ModelProperties, PackedAndPaddedAgreeWithoutPadding) {
  at::manual_seed(3);
  const auto in = batch({6, 6, 6}, {4, 4, 4}, 6, 4);
  auto packed = testing::small_models(Packing::Always);
  auto padded = testing::small_models(Packing::Never);
  for (size_t i = 0; i < packed.size(); ++i) {
    models::load_state_dict(*padded[i].second, models::state_dict(*packed[i].second));
    EXPECT_TRUE(at::allclose(packed[i].second->forward(in), padded[i].second->forward(in), 1e-10, 1e-12))
        << packed[i].first;
  }
}

TEST(ModelProperties, PaddedDecoderStepsGetNoGradientFromTheMaskedLoss) {
  at::manual_seed(4);
  auto in = batch(kEncoder, kDecoder, 7, 5);
  const auto valid = at::arange(5).unsqueeze(0) < at::tensor(kDecoder).unsqueeze(1);
  for (auto packing : {Packing::Always, Packing::Never}) {
    for (auto& [name, model] : testing::small_models(packing)) {
      in.future_sequence = in.future_sequence.detach().requires_grad_(true);
      const auto output = model->forward(in);
      output.retain_grad();
      const auto target = at::randn(output.sizes(), at::kDouble);
      calc_loss(output, target, in.decoder_lengths, Criterion().kind(CriterionKind::MSE)).backward();
      EXPECT_EQ(output.grad().index({~valid}).abs().max().item<double>(), 0.0) << name;
      if (packing == Packing::Always) {  // the packed path never reads a padded decoder step
        EXPECT_EQ(in.future_sequence.grad().index({~valid}).abs().max().item<double>(), 0.0) << name;
      }
    }
  }
}

TEST(ModelProperties, DropoutActsInTrainingOnly) {
  at::manual_seed(5);
  const auto in = batch(kEncoder, kDecoder, 7, 5);
  for (auto& [name, model] : testing::small_models(Packing::Auto, /*dropout=*/0.5)) {
    EXPECT_TRUE(at::equal(model->forward(in), model->forward(in))) << name;
    model->train();
    EXPECT_FALSE(at::allclose(model->forward(in), model->forward(in))) << name;
  }
}

TEST(ModelProperties, TrainingStepLowersTheLossAndIsDeterministic) {
  const auto in = [] { at::manual_seed(6); return batch(kEncoder, kDecoder, 7, 5); }();
  const auto target = at::randn({5, 5, 1}, at::kDouble);
  for (size_t index = 0; index < 3; ++index) {
    std::vector<double> runs;
    for (int run = 0; run < 2; ++run) {
      at::manual_seed(7);
      auto model = testing::small_models(Packing::Auto)[index].second;
      models::TrainingStep step(model, models::TrainingStepOptions().learning_rate(1e-2));
      const double first = step(in, target).item<double>();
      double last = first;
      for (int i = 0; i < 30; ++i) last = step(in, target).item<double>();
      EXPECT_LT(last, first);
      runs.push_back(last);
    }
    EXPECT_EQ(runs[0], runs[1]) << "model " << index;
  }
}

TEST(ModelProperties, TrainingStepHalvesDoWhatTheWholeStepDoes) {
  // backward then update (a data-parallel caller averages the gradients in between) is the step.
  const auto in = [] { at::manual_seed(6); return batch(kEncoder, kDecoder, 7, 5); }();
  const auto target = at::randn({5, 5, 1}, at::kDouble);
  for (size_t index = 0; index < 3; ++index) {
    std::vector<std::shared_ptr<models::ForecastModel>> trained;
    for (bool halves : {false, true}) {
      at::manual_seed(7);
      auto model = testing::small_models(Packing::Auto)[index].second;
      models::TrainingStep step(model);
      for (int i = 0; i < 3; ++i) {
        if (!halves) {
          step(in, target);
          continue;
        }
        const auto before = models::state_dict(*model);
        step.backward(in, target);
        for (const auto& [name, tensor] : models::state_dict(*model)) {
          EXPECT_TRUE(at::equal(tensor, before.at(name))) << "backward updated " << name;
        }
        step.update();
      }
      trained.push_back(model);
    }
    for (const auto& [name, tensor] : models::state_dict(*trained[0])) {
      EXPECT_TRUE(at::equal(tensor, models::state_dict(*trained[1]).at(name))) << "model " << index << ": " << name;
    }
  }
}

TEST(ModelProperties, WeightsRoundTripAndLightningNamesLoad) {
  at::manual_seed(8);
  const auto in = batch(kEncoder, kDecoder, 7, 5);
  auto source = testing::small_models(Packing::Auto);
  auto copy = testing::small_models(Packing::Auto);
  for (size_t i = 0; i < source.size(); ++i) {
    TensorMap lightning;
    for (const auto& [name, tensor] : models::state_dict(*source[i].second)) lightning["model." + name] = tensor;
    lightning["criterion.quantiles"] = at::ones({7});
    models::load_state_dict(*copy[i].second, lightning);
    EXPECT_TRUE(at::equal(source[i].second->forward(in), copy[i].second->forward(in))) << source[i].first;
  }
}

}  // namespace
}  // namespace seqpack
