#include "kubedl/kube/protobuf_codec.h"

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"

namespace kubedl::kube {

// cmake/KubernetesProtos.cmake embeds these.
extern const unsigned char kKubernetesDescriptorSet[];
extern const std::size_t kKubernetesDescriptorSetSize;

namespace {

namespace pb = google::protobuf;
using FieldDescriptor = pb::FieldDescriptor;

constexpr absl::string_view kMagic("k8s\0", 4);
constexpr char kCorePackage[] = "k8s.io.api.core.v1.";
constexpr char kMetaPackage[] = "k8s.io.apimachinery.pkg.apis.meta.v1.";

// The kinds whose JSON form is not their message's field by field.
enum class Special { kNone, kQuantity, kIntOrString, kTime, kMicroTime, kRawJson };

Special SpecialOf(const pb::Descriptor* d) {
  const std::string& name = d->full_name();
  if (name == "k8s.io.apimachinery.pkg.api.resource.Quantity" ||
      name == "k8s.io.apimachinery.pkg.api.resource.QuantityValue")
    return Special::kQuantity;
  if (name == "k8s.io.apimachinery.pkg.util.intstr.IntOrString") return Special::kIntOrString;
  if (name == "k8s.io.apimachinery.pkg.apis.meta.v1.Time") return Special::kTime;
  if (name == "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime") return Special::kMicroTime;
  if (name == "k8s.io.apimachinery.pkg.runtime.RawExtension" ||
      name == "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1")
    return Special::kRawJson;
  return Special::kNone;
}

// The descriptors of the pinned Kubernetes version, built once.
class Schema {
 public:
  static const Schema& Get() {
    static const Schema* schema = new Schema();
    return *schema;
  }

  const pb::Descriptor* Find(const std::string& full_name) const {
    return pool_.FindMessageTypeByName(full_name);
  }
  // Thread-safe (DynamicMessageFactory::GetPrototype is).
  std::unique_ptr<pb::Message> New(const pb::Descriptor* d) const {
    return std::unique_ptr<pb::Message>(factory_.GetPrototype(d)->New());
  }

 private:
  Schema() {
    pb::FileDescriptorSet set;
    if (!set.ParseFromArray(kKubernetesDescriptorSet,
                            static_cast<int>(kKubernetesDescriptorSetSize))) {
      return;  // every lookup then fails, and callers send JSON
    }
    for (const auto& file : set.file()) pool_.BuildFile(file);  // protoc wrote imports first
  }

  pb::DescriptorPool pool_;
  mutable pb::DynamicMessageFactory factory_{&pool_};
};

// A Go struct embedded in another is written inline in JSON but is a field of its own in
// protobuf. These are the embedded structs of core/v1 (the fields tagged json:"" in its Go
// types); should a later version add one, its keys read as unknown here and the object goes as
// JSON, so nothing is lost.
bool IsInline(const FieldDescriptor* field) {
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) return false;
  const std::string& type = field->message_type()->name();
  const std::string& name = field->name();
  if (type == "ProbeHandler") return name == "handler";
  return (type == "LocalObjectReference" && name == "localObjectReference") ||
         (type == "VolumeSource" && name == "volumeSource") ||
         (type == "PersistentVolumeSource" && name == "persistentVolumeSource") ||
         (type == "EphemeralContainerCommon" && name == "ephemeralContainerCommon");
}

// The field `key` names in JSON: one of `d`'s own, or one inside its inline fields (whose chain
// goes to `inline_chain`).
const FieldDescriptor* FindJsonField(const pb::Descriptor* d, const std::string& key,
                                     std::vector<const FieldDescriptor*>* inline_chain) {
  if (const FieldDescriptor* field = d->FindFieldByName(key)) {
    if (!IsInline(field)) return field;
  }
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* field = d->field(i);
    if (!IsInline(field)) continue;
    inline_chain->push_back(field);
    if (const FieldDescriptor* found = FindJsonField(field->message_type(), key, inline_chain))
      return found;
    inline_chain->pop_back();
  }
  return nullptr;
}

absl::Status Mismatch(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::StatusOr<absl::Time> ParseTimestamp(const Object& v, absl::string_view path) {
  absl::Time t;
  std::string error;
  if (!v.is_string() || !absl::ParseTime(absl::RFC3339_full, v.get_ref<const std::string&>(),
                                          &t, &error))
    return Mismatch(path, "not an RFC 3339 time");
  return t;
}

// JSON -> message ----------------------------------------------------------------------------

absl::Status FillMessage(const Object& v, pb::Message* m, const std::string& path);

absl::Status SetTimestamp(const Object& v, pb::Message* m, const std::string& path) {
  auto t = ParseTimestamp(v, path);
  if (!t.ok()) return t.status();
  const int64_t seconds = absl::ToUnixSeconds(*t);
  const auto nanos = static_cast<int32_t>((*t - absl::FromUnixSeconds(seconds)) /
                                          absl::Nanoseconds(1));
  const pb::Reflection* r = m->GetReflection();
  const pb::Descriptor* d = m->GetDescriptor();
  r->SetInt64(m, d->FindFieldByName("seconds"), seconds);
  r->SetInt32(m, d->FindFieldByName("nanos"), nanos);
  return absl::OkStatus();
}

absl::Status FillSpecial(Special kind, const Object& v, pb::Message* m, const std::string& path) {
  const pb::Reflection* r = m->GetReflection();
  const pb::Descriptor* d = m->GetDescriptor();
  switch (kind) {
    case Special::kQuantity:
      // A quantity may be written as a JSON number; the server reads its text.
      if (v.is_string()) r->SetString(m, d->field(0), v.get<std::string>());
      else if (v.is_number()) r->SetString(m, d->field(0), v.dump());
      else return Mismatch(path, "a quantity must be a string or a number");
      return absl::OkStatus();
    case Special::kIntOrString:
      if (v.is_number_integer() && v.get<int64_t>() >= std::numeric_limits<int32_t>::min() &&
          v.get<int64_t>() <= std::numeric_limits<int32_t>::max()) {
        r->SetInt64(m, d->FindFieldByName("type"), 0);
        r->SetInt32(m, d->FindFieldByName("intVal"), v.get<int32_t>());
      } else if (v.is_string()) {
        r->SetInt64(m, d->FindFieldByName("type"), 1);
        r->SetString(m, d->FindFieldByName("strVal"), v.get<std::string>());
      } else {
        return Mismatch(path, "must be a 32-bit integer or a string");
      }
      return absl::OkStatus();
    case Special::kTime:
    case Special::kMicroTime:
      return SetTimestamp(v, m, path);
    case Special::kRawJson:
      r->SetString(m, d->field(0), v.dump());
      return absl::OkStatus();
    case Special::kNone:
      break;
  }
  return FillMessage(v, m, path);
}

// Sets (or, for a repeated field, adds) one value of `field`.
absl::Status SetValue(const Object& v, pb::Message* m, const FieldDescriptor* field,
                      const std::string& path) {
  const pb::Reflection* r = m->GetReflection();
  const bool add = field->is_repeated();
  auto out_of_range = [&](int64_t lo, int64_t hi) {
    return !v.is_number_integer() ||
           (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(hi)
                                   : v.get<int64_t>() < lo || v.get<int64_t>() > hi);
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      if (!v.is_string()) return Mismatch(path, "must be a string");
      std::string value = v.get<std::string>();
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        std::string raw;
        if (!absl::Base64Unescape(value, &raw)) return Mismatch(path, "must be base64");
        value = std::move(raw);
      }
      add ? r->AddString(m, field, std::move(value)) : r->SetString(m, field, std::move(value));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32:
      if (out_of_range(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()))
        return Mismatch(path, "must be a 32-bit integer");
      add ? r->AddInt32(m, field, v.get<int32_t>()) : r->SetInt32(m, field, v.get<int32_t>());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_INT64:
      if (out_of_range(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()))
        return Mismatch(path, "must be a 64-bit integer");
      add ? r->AddInt64(m, field, v.get<int64_t>()) : r->SetInt64(m, field, v.get<int64_t>());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!v.is_boolean()) return Mismatch(path, "must be a boolean");
      add ? r->AddBool(m, field, v.get<bool>()) : r->SetBool(m, field, v.get<bool>());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (!v.is_number()) return Mismatch(path, "must be a number");
      add ? r->AddDouble(m, field, v.get<double>()) : r->SetDouble(m, field, v.get<double>());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      pb::Message* child = add ? r->AddMessage(m, field) : r->MutableMessage(m, field);
      return FillSpecial(SpecialOf(field->message_type()), v, child, path);
    }
    default:
      // The core/v1 schema has no enums, floats or unsigned fields; refuse rather than guess.
      return Mismatch(path, "has a protobuf type this client does not write");
  }
}

absl::Status FillMessage(const Object& v, pb::Message* holder, const std::string& path) {
  if (!v.is_object()) return Mismatch(path, "must be an object");
  for (const auto& [key, value] : v.items()) {
    const std::string child = path.empty() ? key : absl::StrCat(path, ".", key);
    std::vector<const FieldDescriptor*> chain;
    const FieldDescriptor* field = FindJsonField(holder->GetDescriptor(), key, &chain);
    if (field == nullptr) return Mismatch(child, "not in the protobuf schema");
    if (value.is_null()) continue;  // as the JSON decoder reads it: unset
    pb::Message* m = holder;
    for (const FieldDescriptor* embedded : chain)
      m = m->GetReflection()->MutableMessage(m, embedded);
    if (field->is_map()) {
      if (!value.is_object()) return Mismatch(child, "must be an object");
      const pb::Descriptor* entry = field->message_type();
      for (const auto& [k, item] : value.items()) {
        pb::Message* e = m->GetReflection()->AddMessage(m, field);
        e->GetReflection()->SetString(e, entry->map_key(), k);
        if (item.is_null()) continue;
        absl::Status s = SetValue(item, e, entry->map_value(), absl::StrCat(child, "[", k, "]"));
        if (!s.ok()) return s;
      }
    } else if (field->is_repeated()) {
      if (!value.is_array()) return Mismatch(child, "must be an array");
      for (size_t i = 0; i < value.size(); ++i) {
        absl::Status s = SetValue(value[i], m, field, absl::StrCat(child, "[", i, "]"));
        if (!s.ok()) return s;
      }
    } else {
      absl::Status s = SetValue(value, m, field, child);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// message -> JSON ----------------------------------------------------------------------------

absl::StatusOr<Object> ToJson(const pb::Message& m);

absl::StatusOr<Object> SpecialToJson(Special kind, const pb::Message& m) {
  const pb::Reflection* r = m.GetReflection();
  const pb::Descriptor* d = m.GetDescriptor();
  switch (kind) {
    case Special::kQuantity:
      return Object(r->GetString(m, d->field(0)));
    case Special::kIntOrString:
      if (r->GetInt64(m, d->FindFieldByName("type")) == 1)
        return Object(r->GetString(m, d->FindFieldByName("strVal")));
      return Object(r->GetInt32(m, d->FindFieldByName("intVal")));
    case Special::kTime:
    case Special::kMicroTime: {
      const absl::Time t = absl::FromUnixSeconds(r->GetInt64(m, d->FindFieldByName("seconds"))) +
                           absl::Nanoseconds(r->GetInt32(m, d->FindFieldByName("nanos")));
      return Object(absl::FormatTime(kind == Special::kTime ? "%Y-%m-%d%ET%H:%M:%SZ"
                                                            : "%Y-%m-%d%ET%H:%M:%E6SZ",
                                     t, absl::UTCTimeZone()));
    }
    case Special::kRawJson: {
      Object parsed = Object::parse(r->GetString(m, d->field(0)), nullptr, false);
      if (parsed.is_discarded())
        return absl::DataLossError(absl::StrCat(d->full_name(), " does not hold JSON"));
      return parsed;
    }
    case Special::kNone:
      break;
  }
  return ToJson(m);
}

absl::StatusOr<Object> ValueToJson(const pb::Message& m, const FieldDescriptor* field, int index) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, field, index) : r->GetString(m, field);
      if (field->type() == FieldDescriptor::TYPE_BYTES) return Object(absl::Base64Escape(s));
      return Object(std::move(s));
    }
    case FieldDescriptor::CPPTYPE_INT32:
      return Object(rep ? r->GetRepeatedInt32(m, field, index) : r->GetInt32(m, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return Object(rep ? r->GetRepeatedInt64(m, field, index) : r->GetInt64(m, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return Object(rep ? r->GetRepeatedBool(m, field, index) : r->GetBool(m, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Object(rep ? r->GetRepeatedDouble(m, field, index) : r->GetDouble(m, field));
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const pb::Message& child =
          rep ? r->GetRepeatedMessage(m, field, index) : r->GetMessage(m, field);
      return SpecialToJson(SpecialOf(field->message_type()), child);
    }
    default:
      return absl::DataLossError(absl::StrCat(field->full_name(), ": unexpected protobuf type"));
  }
}

absl::StatusOr<Object> ToJson(const pb::Message& m) {
  Object out = Object::object();
  const pb::Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);  // the set ones, in field-number order
  for (const FieldDescriptor* field : fields) {
    if (IsInline(field)) {  // its fields are the parent's in JSON
      auto embedded = ToJson(r->GetMessage(m, field));
      if (!embedded.ok()) return embedded.status();
      out.update(*embedded);
      continue;
    }
    Object& slot = out[field->name()];
    if (field->is_map()) {
      const pb::Descriptor* entry = field->message_type();
      slot = Object::object();
      for (int i = 0; i < r->FieldSize(m, field); ++i) {
        const pb::Message& e = r->GetRepeatedMessage(m, field, i);
        auto value = ValueToJson(e, entry->map_value(), -1);
        if (!value.ok()) return value.status();
        slot[e.GetReflection()->GetString(e, entry->map_key())] = *std::move(value);
      }
    } else if (field->is_repeated()) {
      slot = Object::array();
      for (int i = 0; i < r->FieldSize(m, field); ++i) {
        auto value = ValueToJson(m, field, i);
        if (!value.ok()) return value.status();
        slot.push_back(*std::move(value));
      }
    } else {
      auto value = ValueToJson(m, field, -1);
      if (!value.ok()) return value.status();
      slot = *std::move(value);
    }
  }
  return out;
}

const FieldDescriptor* Field(const pb::Message& m, const char* name) {
  return m.GetDescriptor()->FindFieldByName(name);
}

// The message of a v1 kind: a core kind, or Status and the other meta kinds served as v1 too.
const pb::Descriptor* FindKind(const Schema& schema, const std::string& kind) {
  const pb::Descriptor* type = schema.Find(absl::StrCat(kCorePackage, kind));
  return type != nullptr ? type : schema.Find(absl::StrCat(kMetaPackage, kind));
}

}  // namespace

bool IsProtobufEnvelope(absl::string_view body) { return absl::StartsWith(body, kMagic); }

absl::StatusOr<std::string> EncodeProtobuf(const Object& object) {
  if (!object.is_object() || object.value("apiVersion", "") != "v1" ||
      !object.contains("kind") || !object["kind"].is_string())
    return absl::InvalidArgumentError("only v1 objects with apiVersion and kind are encoded");
  const std::string kind = object["kind"].get<std::string>();
  const Schema& schema = Schema::Get();
  const pb::Descriptor* type = FindKind(schema, kind);
  const pb::Descriptor* unknown_type = schema.Find("k8s.io.apimachinery.pkg.runtime.Unknown");
  if (type == nullptr || unknown_type == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("v1 ", kind, " is not in the protobuf schema"));
  std::unique_ptr<pb::Message> message = schema.New(type);
  Object body = object;
  body.erase("apiVersion");  // carried by the envelope
  body.erase("kind");
  if (absl::Status s = FillMessage(body, message.get(), ""); !s.ok()) return s;

  std::unique_ptr<pb::Message> envelope = schema.New(unknown_type);
  const pb::Reflection* r = envelope->GetReflection();
  pb::Message* type_meta = r->MutableMessage(envelope.get(), Field(*envelope, "typeMeta"));
  type_meta->GetReflection()->SetString(type_meta, Field(*type_meta, "apiVersion"), "v1");
  type_meta->GetReflection()->SetString(type_meta, Field(*type_meta, "kind"), kind);
  r->SetString(envelope.get(), Field(*envelope, "raw"), message->SerializeAsString());
  std::string out(kMagic);
  if (!envelope->AppendToString(&out)) return absl::InternalError("protobuf serialization failed");
  return out;
}

absl::StatusOr<Object> DecodeProtobuf(absl::string_view body) {
  if (!IsProtobufEnvelope(body)) return absl::DataLossError("not a Kubernetes protobuf envelope");
  body.remove_prefix(kMagic.size());
  const Schema& schema = Schema::Get();
  const pb::Descriptor* unknown_type = schema.Find("k8s.io.apimachinery.pkg.runtime.Unknown");
  if (unknown_type == nullptr) return absl::InternalError("the protobuf schema did not load");
  std::unique_ptr<pb::Message> envelope = schema.New(unknown_type);
  if (!envelope->ParseFromArray(body.data(), static_cast<int>(body.size())))
    return absl::DataLossError("the protobuf envelope does not parse");
  const pb::Reflection* r = envelope->GetReflection();
  const pb::Message& type_meta = r->GetMessage(*envelope, Field(*envelope, "typeMeta"));
  const std::string api_version =
      type_meta.GetReflection()->GetString(type_meta, Field(type_meta, "apiVersion"));
  const std::string kind = type_meta.GetReflection()->GetString(type_meta, Field(type_meta, "kind"));
  if (api_version != "v1" || kind.empty())
    return absl::DataLossError(absl::StrCat("protobuf of ", api_version, " ", kind,
                                            " is not decoded here"));
  const pb::Descriptor* type = FindKind(schema, kind);
  if (type == nullptr) return absl::DataLossError(absl::StrCat("v1 ", kind, " is not in the schema"));
  std::unique_ptr<pb::Message> message = schema.New(type);
  const std::string raw = r->GetString(*envelope, Field(*envelope, "raw"));
  if (!message->ParseFromString(raw))
    return absl::DataLossError(absl::StrCat("the protobuf of v1 ", kind, " does not parse"));
  auto json = ToJson(*message);
  if (!json.ok()) return json.status();
  Object out = {{"apiVersion", api_version}, {"kind", kind}};
  out.update(*json);
  return out;
}

}  // namespace kubedl::kube
