// Defaults of Storage's optional capabilities.
#include "nemori/core/error.h"
#include "nemori/storage/repository.h"

namespace nemori {

SemanticMemoryRepository& Storage::statements() {
  throw UnsupportedBackendError("the " + backend() + " backend does not store statements");
}

}  // namespace nemori
