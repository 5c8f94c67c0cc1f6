// The headline of an extractive episode: its most informative sentence, trimmed to a short
// phrase and attributed to its speaker.
#pragma once

#include <span>
#include <string>

#include "nemori/core/message.h"
#include "nemori/episodes/segmenter.h"

namespace nemori {

/// A headline for the episode made of `messages`, without an LLM. Every sentence of every
/// message is a candidate (bracketed notes such as "[image: ...]" left out), first trimmed:
/// leading interjections and vocatives go ("Yeah, Melanie, ..."), so do closing ones
/// ("..., Melanie"), and a sentence of more than 8 words is cut before its last clause or
/// prepositional phrase that starts within them. A candidate scores its content terms (per
/// `tokenize`), each worth the number of the episode's messages that use it, plus one for a
/// name; the speakers' names and small talk ("thanks", "wow") are worth nothing, a question or
/// a phrase of under 3 words half, an assistant's sentence 0.6 of it. The best is attributed to
/// its speaker: "Maya adopted a beagle" when it starts with "I" + a past or modal verb (or
/// "I'm", "I've", "I'll") and says nothing else in the first person, else
/// "Maya: Big news: we adopted a dog". Returns the speakers joined by " and " when no sentence
/// has a content term, "" without messages. Thread-safe if `tokenize` is.
std::string extractive_title(std::span<const Message> messages, const TokenizeFn& tokenize);

}  // namespace nemori
