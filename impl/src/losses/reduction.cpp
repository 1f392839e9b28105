#include <string>

#include "seqpack/errors.h"
#include "seqpack/losses.h"

namespace seqpack {

Reduction parse_reduction(std::string_view text, std::string_view argument) {
  if (text == "mean") return Reduction::Mean;
  if (text == "sum") return Reduction::Sum;
  if (text == "none") return Reduction::None;
  reject(argument, "must be \"mean\", \"sum\" or \"none\" (got \"{}\")", text);
}

AllMasked parse_all_masked(std::string_view text, std::string_view argument) {
  if (text == "nan") return AllMasked::NaN;
  if (text == "zero") return AllMasked::Zero;
  reject(argument, "must be \"nan\" (the original's 0/0) or \"zero\" (got \"{}\")", text);
}

}  // namespace seqpack
