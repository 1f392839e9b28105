#pragma once
// Where a row's real steps sit inside its padded length T.
//   left:  data in [0, L), zeros after   (what packing and the LSTM family read)
//   right: data in [T-L, T), zeros before (what the TFT family reads)
#include <string_view>

namespace seqpack {

enum class Alignment { Left, Right };

// The layout a batch arrives in. Auto reproduces transformertf's guess (a row counts as
// right-aligned iff L < T and its first T-L steps are all close to zero), flaw included:
// a left-aligned row whose first steps are real zeros is taken for right-aligned.
enum class Source { Left, Right, Auto };

// Parse "left" / "right" (and "auto" for Source); anything else is InvalidArgument naming `argument`.
Alignment parse_alignment(std::string_view text, std::string_view argument);
Source parse_source(std::string_view text, std::string_view argument);
std::string_view to_string(Alignment alignment);
std::string_view to_string(Source source);

}  // namespace seqpack
