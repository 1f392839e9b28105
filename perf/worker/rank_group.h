#pragma once
// This process's place in a data-parallel job started by torchrun (one process per rank): its rank,
// the store the ranks share and the gloo group they train in (docs/data-parallel.md,
// perf/worker/ddp_worker.cpp).
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <string>

namespace seqpack::perf {

struct RankGroup {
  int rank = 0, ranks = 1;
  c10::intrusive_ptr<c10d::Store> store;    // the ranks' messages: keys under "seqpack_ddp/"
  c10::intrusive_ptr<c10d::Backend> group;  // gloo, meeting under "seqpack_pg/" of the same store
};

// SEQPACK_DDP_TIMEOUT_S (default 120): bounds the store's waits and every collective.
std::chrono::milliseconds ddp_timeout();

// From torchrun's environment: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and
// TORCHELASTIC_USE_AGENT_STORE ("True": torchrun's agent hosts the TCPStore and every rank is a
// client; else rank 0 hosts it). InvalidArgument naming the variable when one is missing or bad.
RankGroup join_rank_group();

// The value of `key` once some rank has set it, however long that takes: an idle rank waits for
// the next request for as long as the coordinator measures other arms (the store's timeout is
// only how often it asks again). Other store errors (the store is gone) are thrown.
std::string wait_for(c10d::Store& store, const std::string& key);

// Whether every rank passed ready = true. A collective: every rank asks, so a rank that cannot take
// part in what follows (its own error) keeps the others from starting a collective it would miss.
bool every_rank_ready(c10d::Backend& group, bool ready);

}  // namespace seqpack::perf
