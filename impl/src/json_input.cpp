#include "seqpack/json_input.h"

#include "seqpack/errors.h"

namespace seqpack {
namespace {

// The deepest nesting of arrays and objects, counting brackets outside strings; stops counting
// once past `limit`.
int nesting_depth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

nlohmann::json parse_json_input(std::string_view text, std::string_view argument) {
  if (nesting_depth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    reject(argument, "nests arrays or objects deeper than {} levels", kMaxJsonDepth);
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    reject(argument, "is not valid JSON ({})", error.what());
  }
}

}  // namespace seqpack
