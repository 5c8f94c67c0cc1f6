// Random test vectors shared by the vector index tests.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace nemori::testing_data {

/// A vector of `dim` standard normal components drawn from `rng`.
inline std::vector<float> gaussian_vector(std::size_t dim, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(dim);
  for (float& x : v) x = normal(rng);
  return v;
}

}  // namespace nemori::testing_data
