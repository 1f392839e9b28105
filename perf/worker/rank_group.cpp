#include "rank_group.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <charconv>
#include <cstdlib>
#include <string_view>

#include "seqpack/distributed/gloo_group.h"
#include "seqpack/errors.h"

namespace seqpack::perf {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') reject(name, "is not set (ddp_worker runs under torchrun, which sets it)");
  return value;
}

int64_t environment_int(const char* name, int64_t low, int64_t high) {
  const auto text = environment(name);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    reject(name, "must be an integer in [{}, {}], got \"{}\"", low, high, text);
  }
  return value;
}

}  // namespace

std::chrono::milliseconds ddp_timeout() {
  const char* text = std::getenv("SEQPACK_DDP_TIMEOUT_S");
  if (text == nullptr || *text == '\0') return std::chrono::seconds(120);
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(seconds >= 0.001 && seconds <= 86400.0)) {
    reject("SEQPACK_DDP_TIMEOUT_S", "must be seconds in [0.001, 86400], got \"{}\"", text);
  }
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

RankGroup join_rank_group() {
  RankGroup g;
  g.ranks = static_cast<int>(environment_int("WORLD_SIZE", 1, 4096));
  g.rank = static_cast<int>(environment_int("RANK", 0, g.ranks - 1));
  const auto address = environment("MASTER_ADDR");
  const auto port = environment_int("MASTER_PORT", 1, 65535);
  const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  const auto timeout = ddp_timeout();
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(port);
  options.isServer = g.rank == 0 && !(agent != nullptr && std::string_view(agent) == "True");
  options.numWorkers = g.ranks;
  options.waitWorkers = false;
  options.timeout = timeout;
  auto shared = c10::make_intrusive<c10d::TCPStore>(address, options);
  g.store = c10::make_intrusive<c10d::PrefixStore>("seqpack_ddp/", shared);
  g.group = distributed::gloo_group(c10::make_intrusive<c10d::PrefixStore>("seqpack_pg/", shared), g.rank, g.ranks,
                                    timeout);
  return g;
}

std::string wait_for(c10d::Store& store, const std::string& key) {
  while (true) {
    try {
      store.wait({key});
      break;
    } catch (const c10::DistStoreError& error) {
      // A wait that ran out of time asks again; anything else is an error.
      if (std::string_view(error.what()).find("imeout") == std::string_view::npos) throw;
    }
  }
  const auto value = store.get(key);
  return {value.begin(), value.end()};
}

bool every_rank_ready(c10d::Backend& group, bool ready) {
  std::vector<at::Tensor> not_ready{at::full({1}, ready ? 0 : 1, at::kLong)};
  group.allreduce(not_ready)->wait();
  return not_ready[0].item<int64_t>() == 0;
}

}  // namespace seqpack::perf
