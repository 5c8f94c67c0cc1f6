// The prompts of prompts/*.txt as compiled into the binary (the generated prompts.cpp).
#pragma once

#include <functional>
#include <map>
#include <string>

namespace nemori::detail {

/// Every prompt file's text by its name ("segmentation" for prompts/segmentation.txt).
const std::map<std::string, std::string, std::less<>>& compiled_prompts();

}  // namespace nemori::detail
