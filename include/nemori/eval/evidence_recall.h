// Evidence recall at a word budget: how much of a question's evidence a ranked list of
// retrieved units (episodes or messages) covers within a given reading budget.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace nemori {

/// One retrieved unit: the dialog ids it holds and its length in words.
struct RankedUnit {
  std::vector<std::string> dialog_ids;
  std::size_t words = 0;
};

/// Share of `evidence` (distinct ids) covered by the units taken in rank order while they fit in
/// `budget_words` (the first unit that does not fit ends the list). 1.0 for empty evidence.
double recall_at_budget(const std::vector<RankedUnit>& ranked,
                        const std::vector<std::string>& evidence, std::size_t budget_words);

/// Share of `evidence` covered by the first `k` units.
double recall_at_k(const std::vector<RankedUnit>& ranked, const std::vector<std::string>& evidence,
                   std::size_t k);

/// Normalises LoCoMo evidence ids: splits "D1:3; D1:4" and "D1:3,D1:4", trims spaces, drops
/// empty entries.
std::vector<std::string> normalise_evidence(const std::vector<std::string>& evidence);

/// Running means per named bucket (category names and "overall").
class RecallTable {
 public:
  /// Adds one observation of `metric` for `bucket`.
  void add(const std::string& bucket, const std::string& metric, double value);
  /// Mean of a metric in a bucket (0 when never observed).
  double mean(const std::string& bucket, const std::string& metric) const;
  /// Number of observations of a metric in a bucket.
  std::size_t count(const std::string& bucket, const std::string& metric) const;
  /// Buckets seen, sorted.
  std::vector<std::string> buckets() const;

 private:
  std::map<std::string, std::map<std::string, std::pair<double, std::size_t>>> sums_;
};

}  // namespace nemori
