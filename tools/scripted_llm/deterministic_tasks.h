// The deterministic model's tasks beyond segmentation and episodes. A prompt whose first line
// is "Task: <name>." is answered by the function of its family; only that first line is
// matched, so message text inside a prompt can never switch the task
// (docs/design/semantic-memory.md §2.5). Each returns the answer's text, or nullopt when the
// task is not one of its family.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nemori::testing {

/// "semantic-extract", "semantic-predict", "semantic-calibrate", "semantic-reconcile"
/// (deterministic_semantic.cpp).
std::optional<std::string> semantic_task_answer(std::string_view task, const std::string& prompt);

/// "merge" (deterministic_merge.cpp).
std::optional<std::string> merge_task_answer(std::string_view task, const std::string& prompt);

/// "answer", and "judge" for a prompt holding "Gold answer:" and "Generated answer:"
/// (deterministic_eval.cpp).
std::optional<std::string> eval_task_answer(std::string_view task, const std::string& prompt);

}  // namespace nemori::testing
