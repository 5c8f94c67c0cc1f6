// Headlines of extractive episodes: a short attributed phrase from the most informative
// sentence, never a list of frequent words.
#include "episodes/extractive_title.h"

#include <gtest/gtest.h>

#include <memory>

#include "nemori/text/tokenizer.h"

namespace nemori {
namespace {

std::string title(const std::vector<std::pair<std::string, std::string>>& lines) {
  static const auto tokenizer = std::make_shared<Tokenizer>();
  std::vector<Message> messages;
  for (const auto& [speaker, text] : lines) {
    Message m;
    m.speaker_id = speaker;
    m.content = text;
    messages.push_back(std::move(m));
  }
  return extractive_title(messages,
                          [](std::string_view text) { return tokenizer->tokenize(text); });
}

std::size_t words(const std::string& text) {
  std::size_t n = 0;
  bool in_word = false;
  for (char c : text) {
    if (c != ' ' && !in_word) ++n;
    in_word = c != ' ';
  }
  return n;
}

TEST(ExtractiveTitle, IsTheInformativeSentenceNotSmallTalk) {
  EXPECT_EQ(title({{"Caroline", "Hey Mel! Good to see you!"},
                   {"Caroline", "I adopted a beagle from the Riverside shelter."},
                   {"Melanie", "Wow, a beagle! What is his name?"}}),
            "Caroline adopted a beagle from the Riverside shelter");
}

TEST(ExtractiveTitle, QuotesTheSpeakerWhenTheSentenceIsNotAboutThemselves) {
  EXPECT_EQ(title({{"Maya", "Big news: we adopted a dog yesterday!"}, {"Nemo", "Congrats!"}}),
            "Maya: Big news: we adopted a dog yesterday");
  // "I" + a present-tense verb stays quoted ("Maya have" would be wrong).
  EXPECT_EQ(title({{"Maya", "I have a job interview with Kestrel Robotics."}}),
            "Maya: I have a job interview with Kestrel Robotics");
}

TEST(ExtractiveTitle, DropsInterjectionsAndVocatives) {
  EXPECT_EQ(title({{"Caroline", "Yeah, Melanie, the pottery class starts on Tuesday evenings."},
                   {"Melanie", "Nice."}}),
            "Caroline: The pottery class starts on Tuesday evenings");
  EXPECT_EQ(title({{"Caroline", "So I finally painted the lake at sunrise, Melanie."},
                   {"Melanie", "Thanks, Caroline!"}}),
            "Caroline finally painted the lake at sunrise");
}

TEST(ExtractiveTitle, CutsALongSentenceAtAClauseBoundary) {
  const std::string t =
      title({{"Maya",
              "My bowl collapsed twice on the wheel during the first class at the studio, but the "
              "third one survived and I will glaze it green next week."}});
  EXPECT_EQ(t, "Maya: My bowl collapsed twice on the wheel") << t;
}

TEST(ExtractiveTitle, LeavesOutBracketedNotes) {
  EXPECT_EQ(title({{"Melanie", "We went camping by the lake. [image: a photo of a lake]"}}),
            "Melanie: We went camping by the lake");
}

TEST(ExtractiveTitle, IsNeverAListOfFrequentWords) {
  const std::string t =
      title({{"Nemo", "Wedging matters: it removes air bubbles so pieces don't crack."},
             {"Maya", "Air bubbles crack pieces? Wedging it is."}});
  EXPECT_EQ(t.find(", "), std::string::npos) << t;
  EXPECT_LE(words(t), 11u) << t;
  EXPECT_EQ(t.rfind("Nemo: Wedging matters", 0), 0u) << t;
}

TEST(ExtractiveTitle, WithoutContentItNamesTheSpeakers) {
  EXPECT_EQ(title({{"Caroline", "Thanks!"}, {"Melanie", "Wow!"}}), "Caroline and Melanie");
  EXPECT_EQ(title({}), "");
}

}  // namespace
}  // namespace nemori
