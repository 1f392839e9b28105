#pragma once
// Reading a file a user named (--in, --weights, --params, --package): only a regular file is
// opened, so a FIFO, a device or a directory is refused at once instead of blocking or failing
// half-way, and its size is checked against limits().max_file_bytes before a byte is read.
#include <filesystem>
#include <string>
#include <string_view>

namespace seqpack {

// Rejects, naming `argument` and the path, unless `path` is a readable regular file within the limit.
void check_input_file(const std::filesystem::path& path, std::string_view argument);

// The whole file, after check_input_file.
std::string read_input_file(const std::filesystem::path& path, std::string_view argument);

}  // namespace seqpack
