#include "nemori/eval/locomo.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <sstream>

#include "nemori/core/error.h"
#include "nemori/core/input_formats.h"
#include "nemori/core/json.h"

namespace nemori {

using nlohmann::json;

std::vector<Message> LocomoConversation::messages() const {
  std::vector<Message> out;
  for (const auto& s : sessions) out.insert(out.end(), s.turns.begin(), s.turns.end());
  return out;
}

Timestamp parse_locomo_date(std::string_view text) {
  // "1:56 pm on 8 May, 2023"
  std::string norm;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!norm.empty() && norm.back() != ' ') norm.push_back(' ');
    } else {
      norm.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  while (!norm.empty() && norm.back() == ' ') norm.pop_back();
  unsigned hour = 0, minute = 0, day = 0;
  int year = 0;
  char ampm[3] = {0}, month_name[16] = {0};
  if (std::sscanf(norm.c_str(), "%u:%u %2s on %u %15[a-z], %d", &hour, &minute, ampm, &day,
                  month_name, &year) != 6 ||
      hour < 1 || hour > 12 || (std::string(ampm) != "am" && std::string(ampm) != "pm")) {
    throw ValidationError(
        "date_time", "\"" + std::string(text) + "\" does not read as \"1:56 pm on 8 May, 2023\"");
  }
  static constexpr const char* kMonths[] = {"january",   "february", "march",    "april",
                                            "may",       "june",     "july",     "august",
                                            "september", "october",  "november", "december"};
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (month_name == std::string(kMonths[i])) month = i + 1;
  }
  if (month == 0)
    throw ValidationError("date_time", "unknown month in \"" + std::string(text) + "\"");
  if (hour == 12) hour = 0;
  if (std::string(ampm) == "pm") hour += 12;
  return make_timestamp(year, month, day, hour, minute, 0);
}

bool is_locomo(const json& j) {
  const auto sample = [](const json& s) {
    return s.is_object() && s.contains("conversation") && s.contains("qa");
  };
  if (j.is_array()) return !j.empty() && sample(j.front());
  return sample(j);
}

namespace {

std::string speaker_id_of(std::string name) {
  for (char& c : name)
    c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// The string at `key` of the object `j`; `fallback` when absent or null. Throws
// ValidationError naming path.key when it is of another type.
std::string string_field(const json& j, const char* key, std::string fallback,
                         const std::string& path) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) {
    throw ValidationError(path + "." + key,
                          "expected a string, got " + std::string(it->type_name()));
  }
  return it->get<std::string>();
}

LocomoConversation parse_sample(const json& s, std::size_t index) {
  const std::string where = "locomo[" + std::to_string(index) + "]";
  if (!s.is_object() || !s.contains("conversation") || !s["conversation"].is_object()) {
    throw ValidationError(where + ".conversation", "is required and must be an object");
  }
  LocomoConversation conv;
  conv.sample_id = string_field(s, "sample_id", "sample-" + std::to_string(index), where);
  const json& c = s["conversation"];
  conv.speaker_a = string_field(c, "speaker_a", "", where + ".conversation");
  conv.speaker_b = string_field(c, "speaker_b", "", where + ".conversation");
  for (const auto& [key, value] : c.items()) {
    if (key.rfind("session_", 0) != 0 || key.find("_date_time") != std::string::npos) continue;
    const std::string path = where + ".conversation." + key;
    LocomoSession session;
    try {
      session.number = std::stoi(key.substr(8));
    } catch (const std::exception&) {
      throw ValidationError(path, "session key without a number");
    }
    const std::string date_key = key + "_date_time";
    if (!c.contains(date_key) || !c[date_key].is_string()) continue;  // undated: skipped
    session.date_text = c[date_key].get<std::string>();
    try {
      session.date = parse_locomo_date(session.date_text);
    } catch (const ValidationError& e) {
      throw ValidationError(where + ".conversation." + date_key + ": " + e.what());
    }
    if (!value.is_array()) throw ValidationError(path, "expected an array of turns");
    for (std::size_t t = 0; t < value.size(); ++t) {
      const json& turn = value[t];
      const std::string tpath = path + "[" + std::to_string(t) + "]";
      if (!turn.is_object() || !turn.contains("speaker") || !turn["speaker"].is_string()) {
        throw ValidationError(tpath + ".speaker", "is required");
      }
      Message m;
      m.user_name = turn["speaker"].get<std::string>();
      m.speaker_id = speaker_id_of(*m.user_name);
      m.content = string_field(turn, "text", "", tpath);
      if (turn.contains("blip_caption") && turn["blip_caption"].is_string()) {
        m.content += " [image: " + turn["blip_caption"].get<std::string>() + "]";
        m.metadata["blip_caption"] = turn["blip_caption"];
      }
      for (const char* k : {"img_url", "query"}) {
        if (turn.contains(k)) m.metadata[k] = turn[k];
      }
      m.metadata["session"] = session.number;
      if (turn.contains("dia_id") && turn["dia_id"].is_string()) m.external_id = turn["dia_id"];
      m.timestamp = session.date + std::chrono::seconds(30 * static_cast<long>(t));
      validate_json_text(m.metadata, tpath, kMaxJsonDepth - 1);  // stored as content
      session.turns.push_back(std::move(m));
    }
    conv.sessions.push_back(std::move(session));
  }
  std::sort(conv.sessions.begin(), conv.sessions.end(),
            [](const LocomoSession& a, const LocomoSession& b) { return a.number < b.number; });
  if (s.contains("qa") && s["qa"].is_array()) {
    for (std::size_t i = 0; i < s["qa"].size(); ++i) {
      const json& q = s["qa"][i];
      const std::string qpath = where + ".qa[" + std::to_string(i) + "]";
      if (!q.is_object()) throw ValidationError(qpath, "expected an object");
      LocomoQuestion question;
      question.question = string_field(q, "question", "", qpath);
      if (q.contains("answer")) {
        question.answer =
            q["answer"].is_string() ? q["answer"].get<std::string>() : q["answer"].dump();
      }
      if (const auto c = q.find("category"); c != q.end() && !c->is_null()) {
        if (!c->is_number_integer() || c->get<std::int64_t>() < 0 || c->get<std::int64_t>() > 100) {
          throw ValidationError(qpath + ".category", "expected an integer 0..100");
        }
        question.category = static_cast<int>(c->get<std::int64_t>());
      }
      if (q.contains("evidence") && q["evidence"].is_array()) {
        for (const json& e : q["evidence"]) {
          if (e.is_string()) question.evidence.push_back(e.get<std::string>());
        }
      }
      conv.questions.push_back(std::move(question));
    }
  }
  return conv;
}

}  // namespace

std::vector<LocomoConversation> parse_locomo(const json& j) {
  std::vector<LocomoConversation> out;
  if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) out.push_back(parse_sample(j[i], i));
  } else {
    out.push_back(parse_sample(j, 0));
  }
  return out;
}

std::vector<LocomoConversation> load_locomo(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  return parse_locomo(parse_json(text, path.string()));
}

}  // namespace nemori
