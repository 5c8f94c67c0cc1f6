// The prompts of the LLM segmenter and episode writer. Each is a text file under prompts/
// (prompts/segmentation.txt, prompts/episode.txt) compiled into the binary; a configuration
// may replace one with a file of its own (the [prompts] table, docs/llm.md). A prompt is a
// template: each {{name}} is replaced by a value when the prompt is sent.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "nemori/core/message.h"
#include "nemori/core/time.h"

namespace nemori {

/// The compiled-in text of the prompt `name` ("segmentation", "episode"). Throws ConfigError
/// naming the prompts there are when `name` is not one of them.
const std::string& default_prompt(std::string_view name);

/// The prompt `name`: `overrides[name]` when the configuration replaced it, else
/// default_prompt(name).
std::string prompt_text(std::string_view name, const std::map<std::string, std::string>& overrides);

/// `text` with each {{key}} of `values` replaced by its value. Other braces are left alone.
std::string render_prompt(std::string_view text, const std::map<std::string, std::string>& values);

/// Throws ConfigError "prompts.<name>: lacks the placeholder {{p}} ..." when `text` lacks one
/// of `placeholders` (a replaced prompt that would never show the model the messages).
void require_placeholders(std::string_view name, std::string_view text,
                          std::initializer_list<std::string_view> placeholders);

/// One message as a prompt line: "[2023-05-08 13:56 UTC, Monday] Caroline: text". Line breaks
/// inside the text become spaces, so that each message is one line; "[time unknown]" when the
/// message has no timestamp.
std::string prompt_line(const Message& message);

/// A time as a prompt states it: "May 8, 2023 (Monday) at 1:56 PM UTC".
std::string prompt_time(Timestamp t);

}  // namespace nemori
