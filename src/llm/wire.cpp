#include "llm/wire.h"

#include "nemori/core/error.h"

namespace nemori::wire {

std::string check_base_url(const std::string& key, const std::string& url) {
  std::string out = url;
  while (!out.empty() && out.back() == '/') out.pop_back();
  const bool http = out.rfind("http://", 0) == 0 && out.size() > 7;
  const bool https = out.rfind("https://", 0) == 0 && out.size() > 8;
  if (!http && !https) {
    throw ConfigError(key + ": must be an http:// or https:// URL, e.g. https://api.openai.com/v1");
  }
  return out;
}

}  // namespace nemori::wire
