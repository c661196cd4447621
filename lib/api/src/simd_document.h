#pragma once
// JSON text parsed by simdjson, for the read paths that want it fast (ParseJson,
// JsonPatchFromText). Each falls back to nlohmann's parser when there is no SimdDocument (a large
// text, or one simdjson refuses), so what is accepted, and every message about what is not, stays
// nlohmann's.
#include <cstddef>
#include <string_view>

#include <simdjson.h>

#include "kubedl/api/json.h"

namespace kubedl::api {

class SimdDocument {
 public:
  // Texts up to this size are parsed by the calling thread's parser, kept between calls; its
  // buffers (about ten times the largest text it has read) are what a thread keeps. Larger texts
  // are left to the nlohmann path, whose peak is a smaller multiple of the text.
  static constexpr std::size_t kMaxBytes = std::size_t{64} << 10;

  // The thread's parser is reused: a document must be done with before the next SimdDocument is
  // made on the same thread.
  explicit SimdDocument(std::string_view text);
  SimdDocument(const SimdDocument&) = delete;
  SimdDocument& operator=(const SimdDocument&) = delete;

  bool ok() const { return ok_; }
  simdjson::dom::element root() const { return root_; }

 private:
  simdjson::dom::element root_;
  bool ok_ = false;
};

// The Json of a string, number, boolean or null as nlohmann's parser reads its text: a number
// without a fraction or exponent is unsigned when not negative, signed when negative.
Json ScalarJson(simdjson::dom::element scalar);

}  // namespace kubedl::api
