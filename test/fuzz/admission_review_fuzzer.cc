// libFuzzer target: arbitrary bytes as an AdmissionReview body, through both webhooks of every
// kind. Anything but a crash, a sanitizer report or a non-JSON 200 answer is fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kubedl/api/json.h"
#include "services/webhook/admission_reviewer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const auto& kind : kubedl::api::AllKinds()) {
    for (auto type : {kubedl::webhook::WebhookType::kMutate,
                      kubedl::webhook::WebhookType::kValidate}) {
      auto outcome = kubedl::webhook::Review(type, kind, body);
      if (outcome.http_status == 200 &&
          !kubedl::api::Json::accept(outcome.body)) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
