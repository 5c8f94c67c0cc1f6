#include "nemori/eval/evidence_recall.h"

#include <algorithm>
#include <set>

namespace nemori {

namespace {

double covered_share(const std::set<std::string>& wanted, const std::set<std::string>& seen) {
  if (wanted.empty()) return 1.0;
  std::size_t hit = 0;
  for (const auto& id : wanted) hit += seen.count(id);
  return static_cast<double>(hit) / static_cast<double>(wanted.size());
}

}  // namespace

double recall_at_budget(const std::vector<RankedUnit>& ranked,
                        const std::vector<std::string>& evidence, std::size_t budget_words) {
  const std::set<std::string> wanted(evidence.begin(), evidence.end());
  std::set<std::string> seen;
  std::size_t used = 0;
  for (const auto& unit : ranked) {
    if (used + unit.words > budget_words) break;
    used += unit.words;
    seen.insert(unit.dialog_ids.begin(), unit.dialog_ids.end());
  }
  return covered_share(wanted, seen);
}

double recall_at_k(const std::vector<RankedUnit>& ranked, const std::vector<std::string>& evidence,
                   std::size_t k) {
  const std::set<std::string> wanted(evidence.begin(), evidence.end());
  std::set<std::string> seen;
  for (std::size_t i = 0; i < ranked.size() && i < k; ++i) {
    seen.insert(ranked[i].dialog_ids.begin(), ranked[i].dialog_ids.end());
  }
  return covered_share(wanted, seen);
}

std::vector<std::string> normalise_evidence(const std::vector<std::string>& evidence) {
  std::vector<std::string> out;
  for (const auto& item : evidence) {
    std::string current;
    const auto flush = [&] {
      const auto b = current.find_first_not_of(' ');
      const auto e = current.find_last_not_of(' ');
      if (b != std::string::npos) {
        const std::string id = current.substr(b, e - b + 1);
        if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
      }
      current.clear();
    };
    for (char c : item) {
      if (c == ';' || c == ',')
        flush();
      else
        current.push_back(c);
    }
    flush();
  }
  return out;
}

void RecallTable::add(const std::string& bucket, const std::string& metric, double value) {
  auto& slot = sums_[bucket][metric];
  slot.first += value;
  ++slot.second;
}

double RecallTable::mean(const std::string& bucket, const std::string& metric) const {
  const auto b = sums_.find(bucket);
  if (b == sums_.end()) return 0;
  const auto m = b->second.find(metric);
  if (m == b->second.end() || m->second.second == 0) return 0;
  return m->second.first / static_cast<double>(m->second.second);
}

std::size_t RecallTable::count(const std::string& bucket, const std::string& metric) const {
  const auto b = sums_.find(bucket);
  if (b == sums_.end()) return 0;
  const auto m = b->second.find(metric);
  return m == b->second.end() ? 0 : m->second.second;
}

std::vector<std::string> RecallTable::buckets() const {
  std::vector<std::string> out;
  for (const auto& [name, metrics] : sums_) out.push_back(name);
  return out;
}

}  // namespace nemori
