#pragma once
// Parsing JSON that a user wrote (--params, a safetensors header). nlohmann's parser is iterative,
// but printing a value back (every message that quotes it) recurses once per level: a file of
// 100,000 nested brackets overflowed the stack. The nesting is bounded before parsing.
#include <nlohmann/json.hpp>

#include <string_view>

namespace seqpack {

constexpr int kMaxJsonDepth = 64;  // the deepest real input (a params list of lists) nests 3

// The parsed value; InvalidArgument naming `argument` when the text nests deeper than
// kMaxJsonDepth or is not valid JSON.
nlohmann::json parse_json_input(std::string_view text, std::string_view argument);

}  // namespace seqpack
