// A real `nemori serve` child process (NEMORI_BINARY) on a free loopback port.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace nemori::test {

/// `nemori serve ARGS --port 0` with NEMORI_API_KEYS = `keys`; stdout is read for the port,
/// stderr (the request log) goes to a file.
class ServeProcess {
 public:
  ServeProcess(const std::vector<std::string>& args, const std::string& keys) {
    static int counter = 0;
    log_path_ =
        std::filesystem::temp_directory_path() /
        ("nemori_serve_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".log");
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv_text = {NEMORI_BINARY, "serve", "--port", "0"};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("NEMORI_API_KEYS=", 0) != 0) env_text.emplace_back(*e);
    }
    if (!keys.empty()) env_text.push_back("NEMORI_API_KEYS=" + keys);
    std::vector<char*> env;
    for (auto& e : env_text) env.push_back(e.data());
    env.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int rc = posix_spawn(&pid_, NEMORI_BINARY, &actions, nullptr, argv.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
    out_ = ::fdopen(out[0], "r");
    char line[512];
    if (std::fgets(line, sizeof line, out_) != nullptr) {
      first_line_ = line;
      const auto colon = first_line_.rfind(':');
      if (colon != std::string::npos) port_ = std::atoi(first_line_.c_str() + colon + 1);
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr) std::fclose(out_);
    std::filesystem::remove(log_path_);
  }

  /// The port it listens on; 0 when it did not start (see exit_code() and log()).
  int port() const { return port_; }
  /// Sends `signal`.
  void signal(int signal) { ::kill(pid_, signal); }
  /// Waits up to `timeout` for the exit; its exit code, or -1 (killed, or still running).
  int wait(std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  /// Everything it wrote on stderr so far.
  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  FILE* out_ = nullptr;
  int port_ = 0;
  std::string first_line_;
  std::filesystem::path log_path_;
};

}  // namespace nemori::test
