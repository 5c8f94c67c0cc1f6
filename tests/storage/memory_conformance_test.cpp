// The conformance suite on the memory backend.
#include "conformance_suite.h"

#include "nemori/storage/factory.h"

namespace nemori::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Memory, StorageConformanceTest,
                         ::testing::Values(StorageBackendParam{
                             "memory", [] { return open_storage("memory://"); }, nullptr}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace nemori::testing
