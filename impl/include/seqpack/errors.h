#pragma once
// seqpack's one error type for bad input. Every public function checks its input before it
// computes and throws this, with a message that names the argument, the rule and the offending
// value or row, so that a caller (or `seqpack eval`, which maps it to exit status 3) can say
// exactly what was wrong.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace seqpack {

// `text` with control characters escaped (\n, \t, \xHH) and cut to at most `max_bytes` bytes, the
// cut said: user-given strings (tensor names, paths, parameter values) are echoed through this so
// that a message stays one readable line whatever the input held.
std::string printable(std::string_view text, size_t max_bytes = 200);

// The first `shown` items, then "and N more": lists in messages stay short when the input is huge.
std::string short_list(const std::vector<std::string>& items, size_t shown = 5);

class InvalidArgument : public std::invalid_argument {
 public:
  // The message is made printable and bounded here, the one place every rejection passes: with
  // the command's prefix, a line stays under 1,000 characters whatever the input echoed.
  static constexpr size_t kMaxMessageBytes = 900;
  explicit InvalidArgument(const std::string& message)
      : std::invalid_argument(printable(message, kMaxMessageBytes)) {}
};

// Legal input that needs more memory than the process may allocate (its address-space limit, the
// machine): not bad input, not a bug; `seqpack eval` says what could not be allocated (exit 5).
class OutOfMemory : public std::runtime_error {
 public:
  explicit OutOfMemory(const std::string& message) : std::runtime_error(printable(message, 900)) {}
};

// Throws InvalidArgument("<argument>: <formatted rule and value>").
template <typename... Args>
[[noreturn]] void reject(std::string_view argument, fmt::format_string<Args...> rule, Args&&... args) {
  throw InvalidArgument(fmt::format("{}: {}", argument, fmt::format(rule, std::forward<Args>(args)...)));
}

}  // namespace seqpack
