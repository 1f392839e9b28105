// The C++ data-parallel worker of the comparison engine: one process per rank, started by torchrun,
//   python -m torch.distributed.run --standalone --nproc-per-node R --no-python build/release/perf/ddp_worker
// Rank 0 speaks perf_worker's protocol (perf/worker/perf_worker.cpp) on stdin and stdout; it hands
// request line n to the other ranks through the store ("request/<n>"; empty: stop), every rank
// answers it ("reply/<n>/<rank>") and rank 0 prints one reply for all: the lowest failing rank's
// error as "rank <r>: <error>", else rank 0's reply with the ranks' parts merged:
//   {"op": "info"}     -> {"ok", "side": "cpp", "threads", "pid", "torch", "ranks": R}
//   {"op": "prepare", "id", "arm": {"kind": "data_parallel", ...}} (data_parallel_arm.h)
//                      -> {"ok", "prepare_s" (slowest rank), "fill_ratio", "samples", "timesteps",
//                          "steps_per_unit", "rank_fill_ratio": [R]}
//   {"op": "run", "id", "units": K} -> {"ok", "seconds" (rank 0's), "peak_memory_mib" (largest),
//                          "rank_timings": [R x {"compute", "wait", "step"}: seconds per step]}
//                          (the coordinator computes the shares: perf/data_parallel.py)
//   {"op": "release", "id"} -> {"ok"}
// Before a collective (prepare, run) the ranks agree that each of them can take part, so that one
// rank's error is answered instead of leaving the others waiting; a rank that dies ends the group
// (torchrun stops the others). Test-only failures: SEQPACK_DDP_FAIL_RANK=<r> with
// SEQPACK_DDP_FAIL_AT=prepare (rank r answers every prepare with an error) or =exit (rank r exits
// with status 3 at its first run request).
//
//   ddp_worker --equivalence OUT --model M --path padded|packed --steps N [--as-ranks R]
// trains instead and writes the final parameters (ddp_equivalence.h).
#include <CLI/CLI.hpp>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_support.h"
#include "data_parallel_arm.h"
#include "ddp_equivalence.h"
#include "rank_group.h"
#include "seqpack/errors.h"

namespace seqpack::perf {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The first line of an error (c10's errors append a backtrace), bounded.
std::string first_line(const std::string& text) { return printable(text.substr(0, text.find('\n')), 300); }

nlohmann::json failed(const std::string& error) { return {{"ok", false}, {"error", error}}; }

// What a rank answers when it could have done its part but another rank could not: the merged
// reply names the rank that failed by itself.
nlohmann::json peer_failed() { return {{"ok", false}, {"error", "another rank failed"}, {"peer_failed", true}}; }

// Test-only failure injection for this rank (SEQPACK_DDP_FAIL_RANK, SEQPACK_DDP_FAIL_AT).
std::string failure_for(int rank) {
  const char* fail_rank = std::getenv("SEQPACK_DDP_FAIL_RANK");
  const char* fail_at = std::getenv("SEQPACK_DDP_FAIL_AT");
  if (fail_rank == nullptr || fail_at == nullptr || std::to_string(rank) != fail_rank) return "";
  return fail_at;
}

class Worker {
 public:
  explicit Worker(RankGroup& g) : g_(g), failure_(failure_for(g.rank)) {}

  nlohmann::json answer(const nlohmann::json& request) {
    const auto op = request.at("op").get<std::string>();
    if (op == "info") {
      return {{"ok", true}, {"side", "cpp"}, {"threads", at::get_num_threads()}, {"pid", ::getpid()},
              {"torch", TORCH_VERSION}, {"ranks", g_.ranks}};
    }
    if (op != "prepare" && op != "run" && op != "release") return failed("no op \"" + op + "\"");
    const auto id = request.at("id").get<std::string>();
    if (op == "prepare") return prepare(id, request.at("arm"));
    if (op == "run") return run(id, request);
    if (arms_.erase(id) == 0) return failed("no prepared arm \"" + id + "\"");  // release
    return {{"ok", true}};
  }

 private:
  nlohmann::json prepare(const std::string& id, const nlohmann::json& arm) {
    const auto start = Clock::now();
    std::unique_ptr<DataParallelArm> built;
    std::string error;
    try {
      if (failure_ == "prepare") reject("SEQPACK_DDP_FAIL_AT", "rank {} fails every prepare on purpose", g_.rank);
      if (const auto device = arm.value("device", std::string("cpu")); device != "cpu") {
        reject("device", "the data-parallel worker runs on the CPU only (gloo), not \"{}\"", device);
      }
      built = std::make_unique<DataParallelArm>(arm_from_json(arm), g_.rank, g_.ranks, *g_.group);
    } catch (const std::exception& e) {
      error = first_line(e.what());
    }
    if (!every_rank_ready(*g_.group, error.empty())) return error.empty() ? peer_failed() : failed(error);
    built->start();
    const auto prepare_s = seconds_since(start);
    const auto& a = *built;
    nlohmann::json reply{{"ok", true},           {"prepare_s", prepare_s},         {"fill_ratio", a.fill_ratio},
                         {"samples", a.samples}, {"timesteps", a.timesteps},       {"steps_per_unit", a.steps_per_unit},
                         {"rank_fill_ratio", a.rank_fill_ratio}};
    arms_.insert_or_assign(id, std::move(built));
    return reply;
  }

  nlohmann::json run(const std::string& id, const nlohmann::json& request) {
    if (failure_ == "exit") std::_Exit(3);  // a rank that dies: torchrun stops the group
    const auto arm = arms_.find(id);
    const auto units = request.at("units").get<int64_t>();
    const auto error = arm == arms_.end() ? "no prepared arm \"" + id + "\""
                       : units < 1        ? "units must be at least 1"
                                          : "";
    if (!every_rank_ready(*g_.group, error.empty())) return error.empty() ? peer_failed() : failed(error);
    reset_peak_memory();
    const auto start = Clock::now();
    const auto times = arm->second->run(units);
    const auto seconds = seconds_since(start);
    return {{"ok", true}, {"seconds", seconds}, {"peak_memory_mib", peak_memory_mib()}, {"timings", to_json(times)}};
  }

  RankGroup& g_;
  std::string failure_;
  std::map<std::string, std::unique_ptr<DataParallelArm>> arms_;
};

// The lowest rank that failed by itself, else (never expected) the lowest that failed at all.
std::optional<size_t> first_failure(const std::vector<nlohmann::json>& replies) {
  std::optional<size_t> any;
  for (size_t r = 0; r < replies.size(); ++r) {
    if (replies[r].value("ok", false)) continue;
    if (!replies[r].value("peer_failed", false)) return r;
    if (!any) any = r;
  }
  return any;
}

double largest(const std::vector<nlohmann::json>& replies, const char* field) {
  double most = 0.0;
  for (const auto& r : replies) most = std::max(most, r.at(field).get<double>());
  return most;
}

// Rank 0's one reply for all ranks.
nlohmann::json merged(const std::string& op, const std::vector<nlohmann::json>& replies) {
  if (const auto r = first_failure(replies)) {
    return failed("rank " + std::to_string(*r) + ": " + replies[*r].value("error", "failed"));
  }
  auto out = replies[0];
  if (op == "prepare") out["prepare_s"] = largest(replies, "prepare_s");
  if (op == "run") {
    out["rank_timings"] = nlohmann::json::array();
    for (const auto& r : replies) out["rank_timings"].push_back(r.at("timings"));
    out.erase("timings");
    out["peak_memory_mib"] = largest(replies, "peak_memory_mib");
  }
  return out;
}

int serve(RankGroup& g) {
  // torchrun gives every rank the same stdout: only rank 0 writes the protocol, on a descriptor of
  // its own; fd 1 (anything a library prints) goes to the log on every rank.
  FILE* out = g.rank == 0 ? ::fdopen(::dup(1), "w") : nullptr;
  if ((g.rank == 0 && out == nullptr) || ::dup2(2, 1) < 0) return 1;
  Worker worker(g);
  for (int64_t n = 0;; ++n) {
    const auto key = "request/" + std::to_string(n);
    std::string line;
    if (g.rank == 0) {
      if (!std::getline(std::cin, line)) line.clear();
      g.store->set(key, line);  // empty: the coordinator is gone, every rank stops
    } else {
      line = wait_for(*g.store, key);
    }
    if (line.empty()) break;
    std::string op;
    nlohmann::json reply;
    try {
      const auto request = nlohmann::json::parse(line);
      op = request.value("op", "");
      reply = worker.answer(request);
    } catch (const std::exception& error) {
      reply = failed(first_line(error.what()));
    }
    g.store->set("reply/" + std::to_string(n) + "/" + std::to_string(g.rank), reply.dump());
    if (g.rank != 0) continue;
    std::vector<nlohmann::json> replies;
    for (int r = 0; r < g.ranks; ++r) {
      const auto key = "reply/" + std::to_string(n) + "/" + std::to_string(r);
      replies.push_back(nlohmann::json::parse(wait_for(*g.store, key)));
    }
    try {
      reply = merged(op, replies);
    } catch (const std::exception& error) {
      reply = failed(first_line(error.what()));
    }
    std::fputs((reply.dump() + "\n").c_str(), out);
    std::fflush(out);  // the coordinator waits for this line
  }
  // Rank 0 may host the store: it leaves once every rank has read the stop.
  if (g.rank != 0) {
    g.store->set("stopped/" + std::to_string(g.rank), "1");
  } else {
    for (int r = 1; r < g.ranks; ++r) wait_for(*g.store, "stopped/" + std::to_string(r));
  }
  return 0;
}

int threads_from_environment() {
  const char* threads = std::getenv("OMP_NUM_THREADS");
  if (threads == nullptr || *threads == '\0') return 0;
  const int n = std::atoi(threads);
  if (n < 1 || n > 1024) reject("OMP_NUM_THREADS", "must be an integer in [1, 1024], got \"{}\"", threads);
  return n;
}

}  // namespace
}  // namespace seqpack::perf

int main(int argc, char** argv) {
  using namespace seqpack::perf;
  CLI::App app{"The C++ data-parallel worker (run under torchrun), or with --equivalence a training run"};
  EquivalenceOptions equivalence;
  app.add_option("--equivalence", equivalence.out, "train, write the final parameters to this safetensors file");
  app.add_option("--model", equivalence.model, "an LSTM-family model")->capture_default_str();
  app.add_option("--path", equivalence.path, "padded | packed")->capture_default_str();
  app.add_option("--steps", equivalence.steps, "training steps")->capture_default_str();
  app.add_option("--as-ranks", equivalence.as_ranks, "without torchrun: train on these ranks' joined shards");
  CLI11_PARSE(app, argc, argv);
  try {
    if (const int threads = threads_from_environment()) at::set_num_threads(threads);
    if (!equivalence.out.empty()) {
      run_equivalence(equivalence);
      return 0;
    }
    auto group = join_rank_group();
    return serve(group);
  } catch (const std::exception& error) {
    std::cerr << "ddp_worker: " << first_line(error.what()) << "\n";
    return 1;
  }
}
