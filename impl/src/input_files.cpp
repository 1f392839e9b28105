#include "seqpack/input_files.h"

#include <fstream>
#include <new>

#include "seqpack/errors.h"
#include "seqpack/limits.h"

namespace seqpack {

void check_input_file(const std::filesystem::path& path, std::string_view argument) {
  namespace fs = std::filesystem;
  const auto shown = printable(path.string());
  std::error_code error;
  const auto status = fs::status(path, error);
  if (error || !fs::exists(status)) reject(argument, "no such file \"{}\"", shown);
  if (fs::is_directory(status)) reject(argument, "\"{}\" is a directory, not a file", shown);
  if (!fs::is_regular_file(status)) reject(argument, "\"{}\" is not a regular file (a FIFO, socket or device)", shown);
  const auto size = fs::file_size(path, error);
  if (error) reject(argument, "cannot read the size of \"{}\"", shown);
  if (size > static_cast<uintmax_t>(limits().max_file_bytes)) {
    reject(argument, "\"{}\" holds {} bytes, more than {} (seqpack's limit per file; --max-file-bytes raises it)", shown,
           size, limits().max_file_bytes);
  }
}

std::string read_input_file(const std::filesystem::path& path, std::string_view argument) {
  check_input_file(path, argument);
  std::ifstream in(path, std::ios::binary);
  if (!in) reject(argument, "\"{}\" cannot be opened for reading", printable(path.string()));
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) reject(argument, "cannot read the size of \"{}\"", printable(path.string()));
  std::string content;
  try {
    content.resize(size);  // one allocation of the file's size: it fails here, or not at all
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(fmt::format("{}: \"{}\" holds {} bytes, more than this process could allocate to read it",
                                  argument, printable(path.string()), size));
  }
  in.read(content.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size) || in.bad()) {
    reject(argument, "\"{}\" could not be read in full", printable(path.string()));
  }
  return content;
}

}  // namespace seqpack
