#pragma once
// seqpack's one error type for bad input. Every public function checks its input before it
// computes and throws this, with a message that names the argument, the rule and the offending
// value or row, so that a caller (or `seqpack eval`, which maps it to exit status 3) can say
// exactly what was wrong.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace seqpack {

class InvalidArgument : public std::invalid_argument {
 public:
  explicit InvalidArgument(const std::string& message) : std::invalid_argument(message) {}
};

// Throws InvalidArgument("<argument>: <formatted rule and value>").
template <typename... Args>
[[noreturn]] void reject(std::string_view argument, fmt::format_string<Args...> rule, Args&&... args) {
  throw InvalidArgument(fmt::format("{}: {}", argument, fmt::format(rule, std::forward<Args>(args)...)));
}

}  // namespace seqpack
