#include "simd_document.h"

namespace kubedl::api {

SimdDocument::SimdDocument(std::string_view text) {
  if (text.size() > kMaxBytes) return;
  thread_local simdjson::dom::parser parser(kMaxBytes);
  // The text is copied into the parser's padded buffer: a string_view promises no readable bytes
  // past its end.
  ok_ = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root_) ==
        simdjson::SUCCESS;
}

Json ScalarJson(simdjson::dom::element scalar) {
  switch (scalar.type()) {
    case simdjson::dom::element_type::STRING:
      return Json(std::string_view(scalar.get_string().value_unsafe()));
    case simdjson::dom::element_type::INT64: {
      const int64_t value = scalar.get_int64().value_unsafe();
      if (value >= 0) return Json(static_cast<Json::number_unsigned_t>(value));
      return Json(static_cast<Json::number_integer_t>(value));
    }
    case simdjson::dom::element_type::UINT64:
      return Json(static_cast<Json::number_unsigned_t>(scalar.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE: return Json(scalar.get_double().value_unsafe());
    case simdjson::dom::element_type::BOOL: return Json(scalar.get_bool().value_unsafe());
    default: return Json(nullptr);
  }
}

}  // namespace kubedl::api
