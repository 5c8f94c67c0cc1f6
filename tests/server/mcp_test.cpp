// MCP: a scripted JSON-RPC client drives a real `nemori mcp` child over its stdin and stdout
// (handshake, every tool, every error kind), and the streamable HTTP transport at POST /mcp of
// a running server (sessions, headers, key scopes).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "nemori/server/mcp.h"
#include "server_test_support.h"

extern char** environ;

namespace nemori::test {
namespace {

using nlohmann::json;

/// `nemori mcp ARGS` with pipes on stdin and stdout; stderr is discarded.
class McpProcess {
 public:
  explicit McpProcess(const std::vector<std::string>& args) {
    int in[2];
    int out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv_text = {NEMORI_BINARY, "mcp"};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, NEMORI_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
    to_child_ = in[1];
    from_child_ = out[0];
  }
  ~McpProcess() {
    close_input();
    if (pid_ > 0 && wait_exit(std::chrono::seconds(10)) < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(from_child_);
  }

  /// Writes `line` and a newline to the child's stdin.
  void send(const std::string& line) {
    const std::string text = line + "\n";
    ASSERT_EQ(::write(to_child_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  /// Sends a request and returns the answer line parsed (null after 30 s without one).
  json request(const std::string& method, const json& params = json::object()) {
    send(json{{"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", params}}.dump());
    json answer = read_answer();
    EXPECT_EQ(answer.value("id", json()), id_) << answer.dump();
    return answer;
  }
  /// Sends a notification (no answer is expected).
  void notify(const std::string& method) {
    send(json{{"jsonrpc", "2.0"}, {"method", method}}.dump());
  }
  /// The result of tools/call `name` with `arguments`.
  json call_tool(const std::string& name, const json& arguments) {
    return request("tools/call", {{"name", name}, {"arguments", arguments}})["result"];
  }
  /// The next line the child writes, parsed; null when none comes within 30 s.
  json read_answer() {
    while (true) {
      const auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        const std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return json::parse(line);
      }
      pollfd fd{from_child_, POLLIN, 0};
      if (::poll(&fd, 1, 30000) <= 0) {
        ADD_FAILURE() << "no answer from nemori mcp within 30 s";
        return nullptr;
      }
      char chunk[4096];
      const ssize_t n = ::read(from_child_, chunk, sizeof chunk);
      if (n <= 0) {
        ADD_FAILURE() << "nemori mcp closed its stdout";
        return nullptr;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  /// Closes stdin (the end of the session).
  void close_input() {
    if (to_child_ >= 0) ::close(to_child_);
    to_child_ = -1;
  }
  /// Waits for the exit; its exit code, or -1 after `timeout`.
  int wait_exit(std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      ::usleep(20000);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  int id_ = 0;
  std::string buffer_;
};

json initialize_params(const std::string& version = "2025-11-25") {
  return {{"protocolVersion", version},
          {"capabilities", json::object()},
          {"clientInfo", {{"name", "mcp_test"}, {"version", "1"}}}};
}

json messages(const std::string& speaker, const std::vector<std::string>& texts) {
  json list = json::array();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    list.push_back({{"speaker_id", speaker},
                    {"content", texts[i]},
                    {"timestamp", "2024-05-01T10:0" + std::to_string(i) + ":00Z"}});
  }
  return list;
}

std::string text_of(const json& result) {
  return result["content"][0]["text"].get<std::string>();
}

TEST(McpStdioTest, HandshakeListsToolsAndCallsEveryTool) {
  McpProcess mcp({"--storage", "memory://", "--build-after", "0"});
  const json init = mcp.request("initialize", initialize_params());
  ASSERT_TRUE(init.contains("result")) << init.dump();
  EXPECT_EQ(init["result"]["protocolVersion"], "2025-11-25");
  EXPECT_EQ(init["result"]["serverInfo"]["name"], "nemori");
  EXPECT_TRUE(init["result"]["capabilities"].contains("tools"));
  mcp.notify("notifications/initialized");  // no answer: the next line answers the ping
  EXPECT_EQ(mcp.request("ping")["result"], json::object());

  const json tools = mcp.request("tools/list")["result"]["tools"];
  std::vector<std::string> names;
  for (const auto& tool : tools) {
    names.push_back(tool["name"]);
    EXPECT_EQ(tool["inputSchema"]["type"], "object") << tool.dump();
    EXPECT_EQ(tool["inputSchema"]["required"][0], "owner") << tool.dump();
    EXPECT_FALSE(tool["description"].get<std::string>().empty());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"add_memory", "search_memory", "list_episodes",
                                             "get_episode", "delete_episode", "flush"}));

  const json added = mcp.call_tool(
      "add_memory", {{"owner", "alice"},
                     {"messages", messages("alice", {"I adopted a beagle called Biscuit last week.",
                                                     "Biscuit loves the beach near Brighton."})}});
  EXPECT_EQ(added["isError"], false) << added.dump();
  EXPECT_EQ(added["structuredContent"]["stored"], 2);

  const json flushed = mcp.call_tool("flush", {{"owner", "alice"}});
  EXPECT_EQ(flushed["isError"], false) << flushed.dump();
  EXPECT_EQ(flushed["structuredContent"]["raw_events"], 2);
  EXPECT_GE(flushed["structuredContent"]["episodes"].get<int>(), 1);

  const json found = mcp.call_tool("search_memory", {{"owner", "alice"},
                                                     {"query", "beagle Biscuit"},
                                                     {"limit", 5},
                                                     {"mode", "bm25"},
                                                     {"word_budget", 500}});
  ASSERT_EQ(found["isError"], false) << found.dump();
  ASSERT_FALSE(found["structuredContent"]["hits"].empty());
  EXPECT_NE(text_of(found).find("Biscuit"), std::string::npos) << text_of(found);
  const std::string episode_id = found["structuredContent"]["hits"][0]["episode"]["episode_id"];

  const json listed = mcp.call_tool("list_episodes", {{"owner", "alice"}, {"limit", 10}});
  EXPECT_EQ(listed["isError"], false) << listed.dump();
  EXPECT_GE(listed["structuredContent"]["total_count"].get<int>(), 1);
  EXPECT_NE(text_of(listed).find(episode_id), std::string::npos);

  const json got = mcp.call_tool("get_episode", {{"owner", "alice"}, {"episode_id", episode_id}});
  EXPECT_EQ(got["isError"], false) << got.dump();
  EXPECT_EQ(got["structuredContent"]["episode_id"], episode_id);
  EXPECT_EQ(got["structuredContent"]["raw_event_ids"].size(), 2u);

  // Another owner's memory holds nothing of alice's.
  const json other = mcp.call_tool("get_episode", {{"owner", "bob"}, {"episode_id", episode_id}});
  EXPECT_EQ(other["isError"], true);
  EXPECT_NE(text_of(other).find("not found"), std::string::npos);

  const json deleted =
      mcp.call_tool("delete_episode", {{"owner", "alice"}, {"episode_id", episode_id}});
  EXPECT_EQ(deleted["isError"], false) << deleted.dump();
  const json gone = mcp.call_tool("get_episode", {{"owner", "alice"}, {"episode_id", episode_id}});
  EXPECT_EQ(gone["isError"], true);
  EXPECT_NE(text_of(gone).find("episode_id"), std::string::npos) << text_of(gone);
  const json none = mcp.call_tool("search_memory", {{"owner", "alice"}, {"query", "Biscuit"}});
  for (const auto& hit : none["structuredContent"]["hits"]) {
    EXPECT_NE(hit["episode"]["episode_id"], episode_id);
  }

  mcp.close_input();
  EXPECT_EQ(mcp.wait_exit(std::chrono::seconds(30)), 0);  // stdin closed: a clean exit
}

TEST(McpStdioTest, ProtocolAndToolErrors) {
  McpProcess mcp({"--storage", "memory://"});
  // Before initialize only ping is served.
  EXPECT_EQ(mcp.request("tools/list")["error"]["code"], -32600);
  EXPECT_EQ(mcp.request("ping")["result"], json::object());
  // An unknown revision is answered with the newest one.
  EXPECT_EQ(mcp.request("initialize", initialize_params("1999-01-01"))["result"]["protocolVersion"],
            std::string(kMcpProtocolVersions[0]));
  mcp.notify("notifications/initialized");

  mcp.send("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ");  // not JSON
  json answer = mcp.read_answer();
  EXPECT_EQ(answer["error"]["code"], -32700);
  EXPECT_TRUE(answer["id"].is_null());
  mcp.send("[1, 2]");
  EXPECT_EQ(mcp.read_answer()["error"]["code"], -32600);
  mcp.send("{\"id\": 7, \"method\": \"ping\"}");  // no "jsonrpc": "2.0"
  answer = mcp.read_answer();
  EXPECT_EQ(answer["error"]["code"], -32600);
  EXPECT_EQ(answer["id"], 7);

  EXPECT_EQ(mcp.request("resources/list")["error"]["code"], -32601);
  EXPECT_EQ(mcp.request("tools/call", {{"name", "no_such_tool"}})["error"]["code"], -32602);
  EXPECT_EQ(mcp.request("tools/call", {{"arguments", json::object()}})["error"]["code"], -32602);
  EXPECT_EQ(mcp.request("tools/call", {{"name", "flush"}, {"arguments", 3}})["error"]["code"],
            -32602);

  // Bad arguments are tool errors naming the argument, so a model can correct its call.
  const json no_query = mcp.call_tool("search_memory", {{"owner", "alice"}});
  EXPECT_EQ(no_query["isError"], true);
  EXPECT_NE(text_of(no_query).find("query"), std::string::npos) << text_of(no_query);
  const json big_limit =
      mcp.call_tool("search_memory", {{"owner", "alice"}, {"query", "x"}, {"limit", 100000}});
  EXPECT_EQ(big_limit["isError"], true);
  EXPECT_NE(text_of(big_limit).find("limit: must be at most"), std::string::npos);
  const json bad_mode =
      mcp.call_tool("search_memory", {{"owner", "alice"}, {"query", "x"}, {"mode", "psychic"}});
  EXPECT_NE(text_of(bad_mode).find("mode"), std::string::npos);
  const json no_owner = mcp.call_tool("flush", json::object());
  EXPECT_EQ(no_owner["isError"], true);
  EXPECT_NE(text_of(no_owner).find("owner"), std::string::npos);
  const json bad_message =
      mcp.call_tool("add_memory", {{"owner", "alice"}, {"messages", {{{"content", "hi"}}}}});
  EXPECT_EQ(bad_message["isError"], true);
  EXPECT_NE(text_of(bad_message).find("messages[0]"), std::string::npos) << text_of(bad_message);
  const json unknown_key = mcp.call_tool("flush", {{"owner", "alice"}, {"force", true}});
  EXPECT_NE(text_of(unknown_key).find("force"), std::string::npos) << text_of(unknown_key);
}

TEST(McpStdioTest, FixedOwnerTakesNoOwnerArgument) {
  McpProcess mcp({"--storage", "memory://", "--owner", "carol"});
  ASSERT_TRUE(mcp.request("initialize", initialize_params()).contains("result"));
  mcp.notify("notifications/initialized");
  const json listed = mcp.request("tools/list");  // kept alive: the loop reads inside it
  for (const auto& tool : listed["result"]["tools"]) {
    EXPECT_FALSE(tool["inputSchema"]["properties"].contains("owner")) << tool.dump();
  }
  EXPECT_EQ(
      mcp.call_tool("add_memory", {{"messages", messages("carol", {"hello there"})}})["isError"],
      false);
  EXPECT_EQ(mcp.call_tool("flush", json::object())["structuredContent"]["raw_events"], 1);
  const json other = mcp.call_tool("flush", {{"owner", "dave"}});
  EXPECT_EQ(other["isError"], true);
  EXPECT_NE(text_of(other).find("owner"), std::string::npos);
}

// One POST /mcp: status, headers and the parsed body.
struct HttpAnswer {
  int status = 0;
  json body;
  std::string session;
  std::string allow;
};

HttpAnswer post_mcp(int port, const std::string& key, const std::string& body,
                    const httplib::Headers& extra = {}, const std::string& method = "POST") {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  httplib::Headers headers = extra;
  headers.emplace("Accept", "application/json, text/event-stream");
  if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "POST")
    res = client.Post("/mcp", headers, body, "application/json");
  else if (method == "DELETE")
    res = client.Delete("/mcp", headers);
  else
    res = client.Get("/mcp", headers);
  HttpAnswer answer;
  if (!res) {
    ADD_FAILURE() << method << " /mcp: no answer";
    return answer;
  }
  answer.status = res->status;
  answer.body = json::parse(res->body, nullptr, false);
  if (answer.body.is_discarded()) answer.body = nullptr;
  answer.session = res->get_header_value("Mcp-Session-Id");
  answer.allow = res->get_header_value("Allow");
  return answer;
}

std::string rpc(int id, const std::string& method, const json& params = json::object()) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}

std::string tool_call(int id, const std::string& name, const json& arguments) {
  return rpc(id, "tools/call", {{"name", name}, {"arguments", arguments}});
}

TEST(McpHttpTest, SessionHandshakeAndToolsWithinTheKeyScope) {
  auto memory = memory_store();
  TestServer server(*memory);
  const int port = server.port();

  EXPECT_EQ(post_mcp(port, "", rpc(1, "initialize", initialize_params())).status, 401);
  EXPECT_EQ(post_mcp(port, "wrong-key-0123456789abcdef", rpc(1, "ping")).status, 401);

  const HttpAnswer init = post_mcp(port, kAliceKey, rpc(1, "initialize", initialize_params()));
  ASSERT_EQ(init.status, 200) << init.body.dump();
  EXPECT_EQ(init.body["result"]["protocolVersion"], "2025-11-25");
  ASSERT_EQ(init.session.size(), 32u);
  const httplib::Headers session = {{"Mcp-Session-Id", init.session},
                                    {"MCP-Protocol-Version", "2025-11-25"}};
  const HttpAnswer initialized =
      post_mcp(port, kAliceKey,
               json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}.dump(), session);
  EXPECT_EQ(initialized.status, 202);

  EXPECT_EQ(post_mcp(port, kAliceKey, rpc(2, "tools/list"), session).body["result"]["tools"].size(),
            6u);
  const HttpAnswer added = post_mcp(
      port, kAliceKey,
      tool_call(3, "add_memory", {{"owner", "alice"}, {"messages", messages("alice", {"hi"})}}),
      session);
  EXPECT_EQ(added.status, 200);
  EXPECT_EQ(added.body["result"]["isError"], false) << added.body.dump();
  // The key reaches alice only: bob is "not found", as through REST.
  const HttpAnswer other =
      post_mcp(port, kAliceKey, tool_call(4, "flush", {{"owner", "bob"}}), session);
  EXPECT_EQ(other.body["result"]["isError"], true);
  EXPECT_EQ(text_of(other.body["result"]), "owner not found");
  const HttpAnswer flushed =
      post_mcp(port, kAliceKey, tool_call(5, "flush", {{"owner", "alice"}}), session);
  EXPECT_EQ(flushed.body["result"]["structuredContent"]["raw_events"], 1);

  // A prefix key reaches the owners under its prefix, through a request without a session.
  EXPECT_EQ(post_mcp(port, kAgentKey, tool_call(6, "flush", {{"owner", "agent-7:u1"}}))
                .body["result"]["isError"],
            false);
  EXPECT_EQ(post_mcp(port, kAgentKey, tool_call(7, "flush", {{"owner", "agent-8:u1"}}))
                .body["result"]["isError"],
            true);
  // A session belongs to the key scope that opened it.
  EXPECT_EQ(post_mcp(port, kAgentKey, rpc(8, "ping"), session).status, 404);

  // Transport errors.
  EXPECT_EQ(post_mcp(port, kAliceKey, rpc(9, "ping"), {{"Mcp-Session-Id", "nope"}}).status, 404);
  const HttpAnswer bad_version =
      post_mcp(port, kAliceKey, rpc(10, "ping"), {{"MCP-Protocol-Version", "2001-01-01"}});
  EXPECT_EQ(bad_version.status, 400);
  EXPECT_EQ(bad_version.body["error"]["field"], "MCP-Protocol-Version");
  const HttpAnswer not_json = post_mcp(port, kAliceKey, "{not json", session);
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(not_json.body["error"]["code"], -32700);
  EXPECT_EQ(post_mcp(port, kAliceKey, rpc(11, "nope/nope"), session).body["error"]["code"], -32601);
  const HttpAnswer get = post_mcp(port, kAliceKey, "", session, "GET");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.allow, "POST, DELETE");

  // Ending the session.
  EXPECT_EQ(post_mcp(port, kAliceKey, "", session, "DELETE").status, 200);
  EXPECT_EQ(post_mcp(port, kAliceKey, rpc(12, "ping"), session).status, 404);
}

TEST(McpHttpTest, UnauthenticatedServerRefusesForeignOrigins) {
  auto memory = memory_store();
  ServerOptions options;
  options.threads = 4;
  options.unauthenticated = true;
  TestServer server(*memory, options);
  EXPECT_EQ(
      post_mcp(server.port(), "", rpc(1, "ping"), {{"Origin", "http://localhost:5173"}}).status,
      200);
  const HttpAnswer foreign =
      post_mcp(server.port(), "", rpc(1, "ping"), {{"Origin", "https://evil.example"}});
  EXPECT_EQ(foreign.status, 403);
  EXPECT_EQ(foreign.body["error"]["field"], "Origin");
}

}  // namespace
}  // namespace nemori::test
