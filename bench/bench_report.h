// What the benchmark programs report besides Google Benchmark's table: percentiles of measured
// times, a summary of named figures printed after the run, and the main() that prints it.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace nemori::bench {

/// The p-th percentile (0..1, nearest rank below) of `values`; 0 when there are none.
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

/// Figures by name, filled by the benchmarks and printed by the program's summary.
inline std::map<std::string, double>& summary() {
  static std::map<std::string, double> figures;
  return figures;
}

/// Runs the benchmarks selected on the command line, then `print_summary`. Returns main()'s
/// exit code.
inline int run_benchmarks(int argc, char** argv, void (*print_summary)()) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_summary();
  return 0;
}

}  // namespace nemori::bench
