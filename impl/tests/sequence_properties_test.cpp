// Properties over random batches (fixed seeds): packing round-trips, alignment round-trips, and
// seqpack's pack agrees with LibTorch's pack_padded_sequence by meaning.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/utils/rnn.h>

#include "seqpack/sequence.h"

namespace seqpack {
namespace {

struct RandomBatch {
  at::Tensor padded;   // (B, T, F), left-aligned, non-zero data
  at::Tensor lengths;  // (B,) int64, in [min_length, T]
  at::Tensor valid;    // (B, T, 1) bool
};

RandomBatch random_batch(int seed, int64_t min_length = 1, at::ScalarType dtype = at::kDouble) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t batch = at::randint(1, 12, {1}, gen).item<int64_t>();
  const int64_t steps = at::randint(1, 16, {1}, gen).item<int64_t>();
  const int64_t features = at::randint(1, 4, {1}, gen).item<int64_t>();
  auto lengths = at::randint(min_length, steps + 1, {batch}, gen, at::kLong);
  auto valid = (at::arange(steps).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1);
  auto data = (at::rand({batch, steps, features}, gen, at::kDouble) + 0.5).to(dtype);
  return {data.masked_fill(~valid, 0), lengths, valid};
}

// Each property runs over the same 40 seeded random batches (one ctest entry per property).
constexpr int kSeeds = 40;

void CheckUnpackOfPackIsTheBatch(int seed) {
  const auto b = random_batch(seed);
  for (const bool batch_first : {true, false}) {
    const auto input = batch_first ? b.padded : b.padded.transpose(0, 1);
    const auto packed = pack_decoder_sequences(input, b.lengths, PackOptions().batch_first(batch_first));
    auto [padded, lengths] = unpack_to_fixed_length(
        packed, UnpackOptions().batch_first(batch_first).total_length(b.padded.size(1)));
    EXPECT_TRUE(at::equal(batch_first ? padded : padded.transpose(0, 1), b.padded));
    EXPECT_TRUE(at::equal(lengths, b.lengths));
  }
}

void CheckUnpackZerosEveryPaddedStepWhateverTheInputHeld(int seed) {
  auto b = random_batch(seed);
  const auto garbage = b.padded + (~b.valid).to(at::kDouble) * 7.0;  // non-zero padding
  auto [padded, lengths] = unpack_to_fixed_length(pack_decoder_sequences(garbage, b.lengths),
                                                  UnpackOptions().total_length(b.padded.size(1)));
  EXPECT_TRUE(at::equal(padded, b.padded));
}

void CheckAlignLeftRightLeftGivesBackTheData(int seed) {
  const auto b = random_batch(seed, /*min_length=*/0);
  const auto right = align_encoder_sequences(b.padded, b.lengths, AlignOptions(Source::Left));
  const auto left = align_encoder_sequences(right, b.lengths, AlignOptions(Source::Right).alignment(Alignment::Left));
  EXPECT_TRUE(at::equal(left, b.padded));
  // And the original's guess agrees here, where no row starts with a real zero.
  EXPECT_TRUE(at::equal(align_encoder_sequences(b.padded, b.lengths, AlignOptions(Source::Auto)), right));
  EXPECT_NO_THROW(validate_encoder_alignment(right, b.lengths, Alignment::Right));
  EXPECT_NO_THROW(validate_encoder_alignment(left, b.lengths, Alignment::Left));
}

void CheckPackAgreesWithLibTorchByMeaning(int seed) {
  const auto b = random_batch(seed);
  const auto ours = pack_decoder_sequences(b.padded, b.lengths);
  const auto theirs = torch::nn::utils::rnn::pack_padded_sequence(b.padded, b.lengths, /*batch_first=*/true,
                                                                  /*enforce_sorted=*/false);
  EXPECT_TRUE(at::equal(ours.batch_sizes(), theirs.batch_sizes()));
  const auto unpack = [](const PackedSequence& p) {
    return std::get<0>(torch::nn::utils::rnn::pad_packed_sequence(p, /*batch_first=*/true));
  };
  EXPECT_TRUE(at::equal(unpack(ours), unpack(theirs)));
  // Where no two lengths tie, the order is forced and the packs are identical.
  if (std::get<0>(at::_unique(b.lengths)).numel() == b.lengths.numel()) {
    EXPECT_TRUE(at::equal(ours.data(), theirs.data()));
    EXPECT_TRUE(at::equal(ours.sorted_indices(), theirs.sorted_indices()));
  }
}

void CheckEncoderPackOfRightAlignedRowsEqualsPackOfLeftAligned(int seed) {
  const auto b = random_batch(seed);
  const auto right = align_encoder_sequences(b.padded, b.lengths, AlignOptions(Source::Left));
  const auto from_right = pack_encoder_sequences(right, b.lengths, PackEncoderOptions(Source::Right));
  const auto from_left = pack_decoder_sequences(b.padded, b.lengths);
  EXPECT_TRUE(at::equal(from_right.data(), from_left.data()));
}

void CheckInputsAreNeverModified(int seed) {
  const auto b = random_batch(seed, 0, at::kFloat);
  const auto before = b.padded.clone();
  align_encoder_sequences(b.padded, b.lengths, AlignOptions(Source::Auto));
  EXPECT_ANY_THROW(pack_decoder_sequences(b.padded, b.lengths - 100));
  EXPECT_TRUE(at::equal(b.padded, before));
}


TEST(RandomBatches, UnpackOfPackIsTheBatch) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    CheckUnpackOfPackIsTheBatch(seed);
  }
}
TEST(RandomBatches, UnpackZerosEveryPaddedStepWhateverTheInputHeld) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    CheckUnpackZerosEveryPaddedStepWhateverTheInputHeld(seed);
  }
}
TEST(RandomBatches, AlignLeftRightLeftGivesBackTheData) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    CheckAlignLeftRightLeftGivesBackTheData(seed);
  }
}
TEST(RandomBatches, PackAgreesWithLibTorchByMeaning) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    CheckPackAgreesWithLibTorchByMeaning(seed);
  }
}
TEST(RandomBatches, EncoderPackOfRightAlignedRowsEqualsPackOfLeftAligned) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    CheckEncoderPackOfRightAlignedRowsEqualsPackOfLeftAligned(seed);
  }
}
TEST(RandomBatches, InputsAreNeverModified) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    CheckInputsAreNeverModified(seed);
  }
}

TEST(SequenceDtypes, EveryDtypeMovesBitForBit) {
  for (const auto dtype : {at::kDouble, at::kFloat, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort,
                           at::kChar, at::kByte, at::kBool}) {
    const auto b = random_batch(7, 1, dtype);
    const auto values = b.padded;
    auto [padded, lengths] = unpack_to_fixed_length(pack_encoder_sequences(
        align_encoder_sequences(values, b.lengths, AlignOptions(Source::Left)), b.lengths,
        PackEncoderOptions(Source::Right)), UnpackOptions().total_length(values.size(1)));
    EXPECT_TRUE(at::equal(padded, values)) << c10::toString(dtype);
  }
}

TEST(ShouldUsePacking, FollowsTheOriginalsFloat32Arithmetic) {
  EXPECT_FALSE(should_use_packing(std::nullopt));
  EXPECT_FALSE(should_use_packing(at::tensor({10, 9}, at::kLong)));   // 0.1f is not > 0.1f
  EXPECT_TRUE(should_use_packing(at::tensor({100, 89}, at::kLong)));
  EXPECT_TRUE(should_use_packing(at::tensor({4, 4, 4, 4, 4, 4, 4, 3}, at::kLong)));  // B >= 8
  EXPECT_FALSE(should_use_packing(at::full({8}, 4, at::kLong)));
}

}  // namespace
}  // namespace seqpack
