// LoCoMo data for the benchmark programs that read it.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <vector>

#include "nemori/eval/locomo.h"

namespace nemori::bench {

/// The conversations of NEMORI_LOCOMO_PATH when the file exists and holds conversation number
/// `needed`; otherwise skips `state` with the reason and returns nullopt.
inline std::optional<std::vector<LocomoConversation>> load_locomo_or_skip(benchmark::State& state,
                                                                          std::size_t needed) {
  if (!std::filesystem::exists(NEMORI_LOCOMO_PATH)) {
    state.SkipWithError("LoCoMo data not found: " NEMORI_LOCOMO_PATH);
    return std::nullopt;
  }
  auto conversations = load_locomo(NEMORI_LOCOMO_PATH);
  if (needed >= conversations.size()) {
    state.SkipWithError("NEMORI_BENCH_CONVERSATION is beyond the file's conversations");
    return std::nullopt;
  }
  return conversations;
}

}  // namespace nemori::bench
