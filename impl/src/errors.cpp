#include "seqpack/errors.h"

namespace seqpack {

std::string printable(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 16);
  size_t used = 0;
  for (; used < text.size() && out.size() < max_bytes; ++used) {
    const auto byte = static_cast<unsigned char>(text[used]);
    if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (used < text.size()) out += fmt::format("... ({} more bytes)", text.size() - used);
  return out;
}

std::string short_list(const std::vector<std::string>& items, size_t shown) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < shown; ++i) {
    if (i > 0) out += ", ";
    out += printable(items[i], 120);
  }
  if (items.size() > shown) out += fmt::format(" and {} more", items.size() - shown);
  return out;
}

}  // namespace seqpack
