// The OpenAPI document: served at /v1/openapi.json, identical to docs/openapi.json, and
// listing exactly the routes the server has.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "server_test_support.h"

namespace nemori::test {
namespace {

TEST(OpenApiTest, ServedDocumentIsTheOneInDocs) {
  auto memory = memory_store();
  TestServer server(*memory);
  const Answer served = server.call("GET", "/v1/openapi.json", "", "");
  ASSERT_EQ(served.status, 200);
  std::ifstream in(std::string(NEMORI_SOURCE_DIR) + "/docs/openapi.json");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(served.json, nlohmann::json::parse(text.str()));
  EXPECT_EQ(served.json["openapi"].get<std::string>().substr(0, 2), "3.");
}

TEST(OpenApiTest, DocumentListsExactlyTheRoutesThatExist) {
  auto memory = memory_store();
  TestServer server(*memory);
  const nlohmann::json doc = server.call("GET", "/v1/openapi.json", "", "").json;
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      if (method == "parameters") continue;
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      documented.emplace(upper, path);
      // Every operation states its success and, where a request can fail, the error shape.
      EXPECT_TRUE(operation.contains("responses")) << method << " " << path;
    }
  }
  const auto& routes = server.server().routes();
  const std::set<std::pair<std::string, std::string>> served(routes.begin(), routes.end());
  EXPECT_EQ(documented, served);
  // The documented error shape is the one every 4xx/5xx answer has (routes_test.cpp).
  EXPECT_TRUE(doc["components"]["schemas"]["Error"]["properties"]["error"]["required"] ==
              nlohmann::json({"code", "message", "field"}));
}

}  // namespace
}  // namespace nemori::test
