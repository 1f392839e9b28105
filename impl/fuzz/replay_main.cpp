// A main() for the fuzz targets where libFuzzer is not linked (any compiler, the normal presets):
// runs LLVMFuzzerInitialize, then the target on every file named on the command line and every
// file in the folders named (sorted, hidden files skipped). A finding aborts, so that a ctest test
// over the committed corpus and regressions fails; each file is named before it runs.
//   <target> FILE_OR_FOLDER...
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

bool collect(const fs::path& path, std::vector<fs::path>& files) {
  if (fs::is_regular_file(path)) {
    files.push_back(path);
    return true;
  }
  if (!fs::is_directory(path)) return false;
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file() && !entry.path().filename().string().starts_with(".")) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  files.insert(files.end(), found.begin(), found.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (!collect(argv[i], files)) {
      std::cerr << "replay: " << argv[i] << " is neither a file nor a folder\n";
      return 2;
    }
  }
  LLVMFuzzerInitialize(&argc, &argv);
  for (const auto& file : files) {
    std::cout << "replay: " << file.string() << std::endl;
    std::ifstream in(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::cout << "replay: " << files.size() << " inputs, no finding\n";
  return 0;
}
