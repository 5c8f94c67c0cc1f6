#include "episodes/extractive_title.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace nemori {

namespace {

// A headline this long or shorter is kept whole; a longer one is cut near kTargetWords.
constexpr std::size_t kMaxWords = 8;
constexpr std::size_t kTargetWords = 7;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A word without the punctuation around it ("Yeah," -> "yeah"), lower-cased.
std::string bare(const std::string& word) {
  std::size_t b = 0, e = word.size();
  while (b < e && std::ispunct(static_cast<unsigned char>(word[b])) && word[b] != '\'') ++b;
  while (e > b && std::ispunct(static_cast<unsigned char>(word[e - 1]))) --e;
  return lower(word.substr(b, e - b));
}

bool contains(const std::set<std::string, std::less<>>& set, const std::string& word) {
  return set.count(word) != 0;
}

// Words that open a chat sentence without saying anything ("Yeah, ...", "So ...").
const std::set<std::string, std::less<>> kInterjections = {
    "yeah",   "yes",  "yep",    "yup",      "wow",        "oh",         "ah",
    "hey",    "hi",   "hello",  "well",     "so",         "also",       "and",
    "but",    "plus", "anyway", "actually", "honestly",   "absolutely", "totally",
    "thanks", "okay", "ok",     "sure",     "haha",       "lol",        "omg",
    "woohoo", "aww",  "right",  "indeed",   "definitely", "exactly",    "btw",
    "um",     "uh",   "whoa",   "ooh",      "yay",        "gosh",       "nope",
    "hmm",    "oops", "cool",   "nice",     "great",      "awesome",    "congrats"};

// Words that carry nothing of an episode's topic in chat (checked after tokenizing them).
constexpr const char* kSmallTalk =
    "thanks thank great awesome wow glad yeah yes yup absolutely totally really congrats "
    "congratulations cool nice amazing hey hi hello good sure lol haha okay wonderful sounds "
    "exciting happy fun lovely sweet cute incredible fantastic super love loved";

// Past-tense verbs that do not end in "-ed", and modals: "I <verb>" reads as "Maya <verb>".
const std::set<std::string, std::less<>> kThirdPersonVerbs = {
    "was",    "had",   "got",    "went",  "took",   "made",   "met",     "found",  "saw",
    "bought", "began", "came",   "did",   "felt",   "gave",   "heard",   "kept",   "knew",
    "left",   "lost",  "ran",    "said",  "sent",   "sold",   "spent",   "told",   "thought",
    "won",    "wrote", "drove",  "flew",  "built",  "became", "brought", "caught", "chose",
    "ate",    "fell",  "forgot", "grew",  "held",   "led",    "paid",    "rode",   "sang",
    "sat",    "slept", "spoke",  "stood", "swam",   "taught", "threw",   "wore",   "woke",
    "will",   "can",   "could",  "would", "should", "might",  "must"};
// Adverbs that may stand between "I" and its verb ("I finally signed up").
const std::set<std::string, std::less<>> kAdverbs = {
    "finally", "just",  "also",   "already", "recently", "actually", "really",
    "even",    "never", "always", "still",   "once",     "last"};
const std::set<std::string, std::less<>> kFirstPerson = {"i",   "me",   "my",   "mine", "myself",
                                                         "i'm", "i've", "i'll", "i'd"};
// Words before which a long sentence may be cut: the start of a new clause or of a
// prepositional phrase.
const std::set<std::string, std::less<>> kClauseStarts = {
    "but",  "so",    "because", "and", "which", "while", "though", "although", "since",
    "when", "where", "or",      "if",  "until", "who",   "as",     "plus"};
const std::set<std::string, std::less<>> kPrepositions = {
    "at",    "on",     "in",     "for",  "with", "from", "to", "about",
    "after", "before", "during", "near", "into", "by",   "of"};

// Words a cut phrase should not end with ("..., even", "the").
const std::set<std::string, std::less<>> kDangling = {
    "even", "the", "a",    "an",     "and",  "but",  "so",    "or",  "of",    "to",  "for",
    "with", "at",  "on",   "in",     "my",   "your", "his",   "her", "their", "our", "is",
    "are",  "was", "very", "really", "just", "that", "which", "who", "not"};

bool is_past_or_modal(const std::string& word) {
  if (contains(kThirdPersonVerbs, word)) return true;
  return word.size() > 3 && word.ends_with("ed") && !word.ends_with("eed");
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// `text` without bracketed notes ("[image: a photo of ...]").
std::string without_brackets(const std::string& text) {
  std::string out;
  int depth = 0;
  for (char c : text) {
    if (c == '[') {
      ++depth;
    } else if (c == ']' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

// The sentences of a message, each with its closing punctuation.
std::vector<std::string> sentences_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool closes = (c == '.' || c == '!' || c == '?') &&
                        (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n');
    if (closes || c == '\n') {
      out.push_back(text.substr(from, i + 1 - from));
      from = i + 1;
    }
  }
  if (from < text.size()) out.push_back(text.substr(from));
  return out;
}

bool ends_clause(const std::string& word) {
  const char last = word.back();
  return last == ',' || last == ';' || last == ':';
}

// A sentence trimmed to a short phrase (see extractive_title).
std::vector<std::string> trimmed(std::vector<std::string> words,
                                 const std::unordered_set<std::string>& speakers) {
  // Interjections and vocatives ("Yeah,", "So", "Melanie,").
  while (!words.empty()) {
    const std::string b = bare(words.front());
    const bool vocative = speakers.count(b) != 0 && ends_clause(words.front());
    if (!contains(kInterjections, b) && !vocative) break;
    words.erase(words.begin());
  }
  // A closing vocative or tag ("..., Melanie." and "..., right?").
  while (
      words.size() > 1 && ends_clause(words[words.size() - 2]) &&
      (speakers.count(bare(words.back())) != 0 || contains(kInterjections, bare(words.back())))) {
    words.pop_back();
  }
  if (words.size() > kMaxWords) {
    // Cut before the last clause or prepositional phrase that starts within kMaxWords.
    std::size_t cut = 0;
    for (std::size_t k = 4; k <= kMaxWords; ++k) {  // keep words [0, k)
      const std::string next = bare(words[k]);
      if (ends_clause(words[k - 1]) || words[k] == "-" || words[k] == "\u2014" ||
          contains(kClauseStarts, next) || contains(kPrepositions, next))
        cut = k;
    }
    if (cut == 0) {
      words.resize(kTargetWords);
      words.back() += "...";
    } else {
      words.resize(cut);
      while (words.size() > 1 && contains(kDangling, bare(words.back()))) words.pop_back();
    }
  }
  if (!words.empty()) {
    std::string& last = words.back();
    while (!last.empty() && (last.back() == '.' || last.back() == ',' || last.back() == ';' ||
                             last.back() == ':' || last.back() == '!'))
      last.pop_back();
    if (last.empty()) words.pop_back();
  }
  return words;
}

// "Maya adopted a beagle" for "I adopted a beagle" said by Maya, else "Maya: <phrase>".
std::string attributed(std::vector<std::string> words, const std::string& speaker) {
  if (words.empty()) return speaker;
  const std::string first = lower(words.front());
  std::size_t verb = 1;
  while (verb < words.size() && contains(kAdverbs, lower(words[verb]))) ++verb;
  std::string subject_and_verb;
  if (first == "i'm") {
    subject_and_verb = speaker + " is";
  } else if (first == "i've") {
    subject_and_verb = speaker + " has";
  } else if (first == "i'll") {
    subject_and_verb = speaker + " will";
  } else if (first == "i" && verb < words.size() && is_past_or_modal(lower(words[verb]))) {
    subject_and_verb = speaker;
  }
  bool more_first_person = false;
  for (std::size_t k = 1; k < words.size(); ++k)
    more_first_person = more_first_person || contains(kFirstPerson, bare(words[k]));
  if (!subject_and_verb.empty() && !more_first_person) {
    words.front() = subject_and_verb;
    return join_words(words);
  }
  if (first != "i" && !first.starts_with("i'")) {
    words.front()[0] =
        static_cast<char>(std::toupper(static_cast<unsigned char>(words.front()[0])));
  }
  return speaker + ": " + join_words(words);
}

}  // namespace

std::string extractive_title(std::span<const Message> messages, const TokenizeFn& tokenize) {
  if (messages.empty()) return "";
  std::vector<std::string> speakers;
  std::unordered_set<std::string> speaker_words;  // lower-cased, for vocatives
  std::unordered_set<std::string> speaker_terms;
  for (const auto& m : messages) {
    const std::string& label = m.speaker_label();
    if (std::find(speakers.begin(), speakers.end(), label) != speakers.end()) continue;
    speakers.push_back(label);
    for (const auto& w : split_words(label)) speaker_words.insert(bare(w));
    for (auto& t : tokenize(label)) speaker_terms.insert(std::move(t));
  }
  std::unordered_set<std::string> small_talk;
  for (auto& t : tokenize(kSmallTalk)) small_talk.insert(std::move(t));

  // How many messages use each term, and which terms are written as names mid-sentence.
  std::vector<std::vector<std::string>> sentences(messages.size());
  std::unordered_map<std::string, int> message_count;
  std::unordered_set<std::string> names;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    std::unordered_set<std::string> seen;
    sentences[i] = sentences_of(without_brackets(messages[i].content));
    for (const auto& sentence : sentences[i]) {
      const auto words = split_words(sentence);
      for (std::size_t k = 0; k < words.size(); ++k) {
        const auto terms = tokenize(words[k]);
        const bool name = k > 0 && std::isupper(static_cast<unsigned char>(words[k][0])) &&
                          words[k] != "I" && !words[k].starts_with("I'");
        for (const auto& t : terms) {
          if (seen.insert(t).second) ++message_count[t];
          if (name) names.insert(t);
        }
      }
    }
  }
  auto weight = [&](const std::string& term) -> double {
    if (speaker_terms.count(term) != 0 || small_talk.count(term) != 0) return 0;
    const auto it = message_count.find(term);
    return (it == message_count.end() ? 1 : it->second) + (names.count(term) != 0 ? 1 : 0);
  };

  double best_score = 0;
  std::string best;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    for (const auto& sentence : sentences[i]) {
      const auto words = trimmed(split_words(sentence), speaker_words);
      if (words.empty()) continue;
      const std::string phrase = join_words(words);
      std::unordered_set<std::string> terms;
      for (auto& t : tokenize(phrase)) terms.insert(std::move(t));
      double score = 0;
      for (const auto& t : terms) score += weight(t);
      if (phrase.back() == '?') score *= 0.5;
      if (words.size() < 3) score *= 0.5;
      // An assistant's sentence is the user's story retold: the user's own comes first.
      if (messages[i].role == MessageRole::kAssistant) score *= 0.6;
      if (score > best_score) {
        best_score = score;
        best = attributed(words, messages[i].speaker_label());
      }
    }
  }
  if (!best.empty()) return best;
  std::string out;
  for (std::size_t i = 0; i < speakers.size(); ++i)
    out += (i == 0 ? "" : (i + 1 == speakers.size() ? " and " : ", ")) + speakers[i];
  return out;
}

}  // namespace nemori
