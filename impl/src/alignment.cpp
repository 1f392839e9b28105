#include "seqpack/alignment.h"

#include "seqpack/errors.h"

namespace seqpack {

Alignment parse_alignment(std::string_view text, std::string_view argument) {
  if (text == "left") return Alignment::Left;
  if (text == "right") return Alignment::Right;
  reject(argument, "must be \"left\" or \"right\" (got \"{}\")", text);
}

Source parse_source(std::string_view text, std::string_view argument) {
  if (text == "left") return Source::Left;
  if (text == "right") return Source::Right;
  if (text == "auto") return Source::Auto;
  reject(argument, "must be \"left\", \"right\" or \"auto\" (got \"{}\")", text);
}

std::string_view to_string(Alignment alignment) { return alignment == Alignment::Left ? "left" : "right"; }

std::string_view to_string(Source source) {
  switch (source) {
    case Source::Left: return "left";
    case Source::Right: return "right";
    case Source::Auto: return "auto";
  }
  return "?";
}

}  // namespace seqpack
