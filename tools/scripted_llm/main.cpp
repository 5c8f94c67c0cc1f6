// nemori-scripted-llm: the scripted LLM server as a program, answering as the deterministic
// model (see scripted_llm_server.h), so `nemori` can be pointed at it without a network.
//
//   nemori-scripted-llm [--port N] [--host H] [--dimension D] [--segment-size S]
//                       [--synonym WORD=CONCEPT]...
//
// --synonym makes the deterministic embeddings treat WORD as CONCEPT (Options::
// embedding_synonyms), so that a test can search by a word the stored text does not hold.
//
// Prints the bound port alone on the first line of stdout (useful with --port 0, the default),
// then serves until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "scripted_llm_server.h"

int main(int argc, char** argv) {
  nemori::testing::ScriptedLlmServer::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    try {
      if (arg == "--port" && has_value) {
        options.port = std::stoi(argv[++i]);
      } else if (arg == "--host" && has_value) {
        options.host = argv[++i];
      } else if (arg == "--dimension" && has_value) {
        options.embedding_dimension = std::stoul(argv[++i]);
      } else if (arg == "--segment-size" && has_value) {
        options.segment_size = std::stoul(argv[++i]);
      } else if (arg == "--synonym" && has_value && std::string(argv[i + 1]).find('=') != 0 &&
                 std::string(argv[i + 1]).find('=') != std::string::npos) {
        const std::string pair = argv[++i];
        const auto eq = pair.find('=');
        options.embedding_synonyms[pair.substr(0, eq)] = pair.substr(eq + 1);
      } else {
        std::cerr << "usage: nemori-scripted-llm [--port N] [--host H] [--dimension D] "
                     "[--segment-size S] [--synonym WORD=CONCEPT]...\n";
        return 2;
      }
    } catch (const std::exception&) {
      std::cerr << "nemori-scripted-llm: " << arg << ": not a number\n";
      return 2;
    }
  }
  // Block the stop signals before any server thread starts, then wait for one.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    nemori::testing::ScriptedLlmServer server(options);
    std::cout << server.port() << std::endl;
    std::cerr << "nemori-scripted-llm: OpenAI base URL " << server.openai_base_url()
              << ", Anthropic base URL " << server.anthropic_base_url() << std::endl;
    int signal = 0;
    sigwait(&stop_signals, &signal);
    server.stop();
  } catch (const std::exception& e) {
    std::cerr << "nemori-scripted-llm: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
