// The storage conformance suite against a real PostgreSQL server, one fresh schema per test.
#include "../conformance_suite.h"
#include "pg_test_support.h"

namespace nemori::testing {

INSTANTIATE_TEST_SUITE_P(Postgres, StorageConformanceTest,
                         ::testing::Values(StorageBackendParam{"postgresql", open_fresh_pg,
                                                               reopen_pg}),
                         [](const auto& info) { return info.param.name; });

}  // namespace nemori::testing
