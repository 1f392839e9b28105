// Every rejection of the bad-input policy for the sequence utilities: the error type, and a
// message naming the argument, the rule and the offending value or row.
#include <ATen/ATen.h>

#include "seqpack/sequence.h"
#include "test_helpers.h"

namespace seqpack {
namespace {

const auto kF64 = at::TensorOptions().dtype(at::kDouble);

at::Tensor batch(int64_t rows = 2, int64_t steps = 4) { return at::ones({rows, steps, 1}, kF64); }
at::Tensor lengths(std::vector<int64_t> values) { return at::tensor(values, at::kLong); }
AlignOptions left_source() { return AlignOptions(Source::Left); }

TEST(LengthRejections, WrongRank) {
  EXPECT_REJECTS(align_encoder_sequences(batch(), at::ones({2, 2}, at::kLong), left_source()), "lengths",
                 "shape (B,) or (B, 1)");
}
TEST(LengthRejections, WrongDtype) {
  EXPECT_REJECTS(align_encoder_sequences(batch(), at::ones({2}, at::kBool), left_source()), "lengths",
                 "integer or floating");
}
TEST(LengthRejections, BatchMismatch) {
  EXPECT_REJECTS(align_encoder_sequences(batch(), lengths({1, 2, 3}), left_source()), "lengths", "batch size is 2",
                 "got 3");
}
TEST(LengthRejections, Negative) {
  EXPECT_REJECTS(align_encoder_sequences(batch(), lengths({1, -2}), left_source()), "lengths", "negative", "row 1");
}
TEST(LengthRejections, NotAnInteger) {
  EXPECT_REJECTS(align_encoder_sequences(batch(), at::tensor({1.5, 2.0}, kF64), left_source()), "lengths",
                 "whole numbers", "row 0");
}
TEST(LengthRejections, NaN) {
  EXPECT_REJECTS(should_use_packing(at::tensor({NAN, 2.0}, kF64)), "lengths", "NaN", "row 0");
}
TEST(LengthRejections, LongerThanT) {
  EXPECT_REJECTS(align_encoder_sequences(batch(), lengths({1, 5}), left_source()), "lengths", "T = 4", "row 1");
  EXPECT_REJECTS(pack_decoder_sequences(batch(), lengths({5, 1})), "lengths", "T = 4", "row 0");
  EXPECT_REJECTS(validate_encoder_alignment(batch(), lengths({4, 9}), Alignment::Left), "lengths", "row 1");
}
TEST(LengthRejections, ZeroLengthInPack) {
  EXPECT_REJECTS(pack_decoder_sequences(batch(), lengths({0, 3})), "lengths", "at least 1", "row 0");
  EXPECT_REJECTS(pack_encoder_sequences(batch(), lengths({3, 0}), PackEncoderOptions(Source::Left)), "lengths",
                 "row 1");
}

TEST(SequenceRejections, EmptyBatch) {
  EXPECT_REJECTS(align_encoder_sequences(at::ones({0, 4, 1}, kF64), lengths({}), left_source()), "sequences",
                 "at least one row");
  EXPECT_REJECTS(pack_decoder_sequences(at::ones({0, 4, 1}, kF64), lengths({})), "sequences", "at least one row");
}
TEST(SequenceRejections, RankTooLow) {
  EXPECT_REJECTS(align_encoder_sequences(at::ones({4}, kF64), lengths({1}), left_source()), "sequences",
                 "at least 2 dimensions");
  EXPECT_REJECTS(validate_encoder_alignment(at::ones({4}, kF64), std::nullopt, Alignment::Left), "encoder_input");
}
TEST(SequenceRejections, UndefinedTensor) {
  EXPECT_REJECTS(pack_decoder_sequences(at::Tensor(), lengths({1})), "sequences", "required");
}
TEST(SequenceRejections, UnknownAlignmentWords) {
  EXPECT_REJECTS(parse_alignment("center", "alignment"), "alignment", "\"center\"");
  EXPECT_REJECTS(parse_source("guess", "source"), "source", "\"guess\"");
}
TEST(SequenceRejections, MaxLength) {
  EXPECT_REJECTS(align_encoder_sequences(batch(), lengths({1, 2}), left_source().max_length(0)), "max_length",
                 "at least 1");
  EXPECT_REJECTS(align_encoder_sequences(batch(), lengths({1, 2}), left_source().max_length(6)), "max_length",
                 "T = 4");
  EXPECT_REJECTS(align_encoder_sequences(batch(), lengths({1, 3}), left_source().max_length(2)), "max_length",
                 "row 1");
  EXPECT_REJECTS(align_encoder_sequences(batch(), lengths({1, 3}), AlignOptions(Source::Auto).max_length(6)),
                 "max_length", "T = 4");
}
TEST(SequenceRejections, EnforceSortedNeedsSortedLengths) {
  EXPECT_REJECTS(pack_decoder_sequences(batch(3), lengths({2, 3, 1}), PackOptions().enforce_sorted(true)), "lengths",
                 "decreasing", "row 0");
}
TEST(SequenceRejections, ValidateNamesTheRow) {
  auto x = batch(3, 4);
  x[2].slice(0, 0, 2).zero_();  // row 2: right-aligned, length 2
  x[0].slice(0, 3).zero_();     // row 0: left-aligned, length 3
  EXPECT_REJECTS(validate_encoder_alignment(x, lengths({3, 4, 2}), Alignment::Left), "encoder_input", "row 2",
                 "left alignment");
  EXPECT_REJECTS(validate_encoder_alignment(x, lengths({3, 4, 2}), Alignment::Right), "encoder_input", "row 0",
                 "right alignment");
}

PackedSequence good_pack() { return pack_decoder_sequences(batch(3, 4), lengths({2, 4, 3})); }

TEST(UnpackRejections, BatchSizes) {
  const auto p = good_pack();
  EXPECT_REJECTS(unpack_to_fixed_length(PackedSequence(p.data(), p.batch_sizes().to(at::kInt))), "batch_sizes",
                 "int64");
  EXPECT_REJECTS(unpack_to_fixed_length(PackedSequence(p.data(), at::tensor({1, 2, 2, 2}, at::kLong))),
                 "batch_sizes", "non-increasing");
  EXPECT_REJECTS(unpack_to_fixed_length(PackedSequence(p.data(), at::tensor({3, 3, 0, 0}, at::kLong))),
                 "batch_sizes", "positive");
  EXPECT_REJECTS(unpack_to_fixed_length(PackedSequence(p.data(), at::tensor({3, 3, 2}, at::kLong))), "data",
                 "sum(batch_sizes) = 8", "got 9");
  EXPECT_REJECTS(unpack_to_fixed_length(PackedSequence(p.data(), at::zeros({0}, at::kLong))), "batch_sizes",
                 "empty");
}
TEST(UnpackRejections, Permutations) {
  const auto p = good_pack();
  const auto twice = at::tensor({1, 1, 0}, at::kLong);
  EXPECT_REJECTS(unpack_to_fixed_length(PackedSequence(p.data(), p.batch_sizes(), twice, p.unsorted_indices())),
                 "sorted_indices", "permutation");
  EXPECT_REJECTS(unpack_to_fixed_length(PackedSequence(p.data(), p.batch_sizes(), p.sorted_indices(),
                                                       p.sorted_indices().flip(0))),
                 "unsorted_indices", "inverse");
  EXPECT_REJECTS(unpack_to_fixed_length(PackedSequence(p.data(), p.batch_sizes(), at::tensor({0, 1}, at::kLong))),
                 "sorted_indices", "entries");
}
TEST(UnpackRejections, TotalLengthTooShort) {
  EXPECT_REJECTS(unpack_to_fixed_length(good_pack(), UnpackOptions().total_length(3)), "total_length",
                 "longest row's length 4", "got 3");
}

}  // namespace
}  // namespace seqpack
