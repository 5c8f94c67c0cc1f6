#include "nemori/core/error.h"

namespace nemori {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConfig:
      return "config";
    case ErrorKind::kUnsupportedBackend:
      return "unsupported_backend";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kDuplicate:
      return "duplicate";
    case ErrorKind::kValidation:
      return "validation";
    case ErrorKind::kStorage:
      return "storage";
    case ErrorKind::kLlm:
      return "llm";
  }
  return "unknown";
}

}  // namespace nemori
