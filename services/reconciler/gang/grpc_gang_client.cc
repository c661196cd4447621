#include "services/reconciler/gang/grpc_gang_client.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "kubedl/api/kind.h"
#include "kubedl/v1/gang_scheduler.grpc.pb.h"
#include "kubedl/kube/quantity.h"

namespace kubedl::reconciler {
namespace {

using api::Json;

v1::JobRef RefOf(const api::Job& job) {
  v1::JobRef ref;
  ref.set_api_version(std::string(job.descriptor().api_version));
  ref.set_kind(std::string(job.descriptor().name));
  ref.set_namespace_(job.namespace_);
  ref.set_name(job.name);
  ref.set_uid(job.uid);
  return ref;
}

// A quantity as the API server would have it in JSON: a string, or a plain number.
absl::StatusOr<kube::Quantity> QuantityOf(const Json& value) {
  if (value.is_string()) return kube::Quantity::Parse(value.get<std::string>());
  if (value.is_number_integer()) return kube::Quantity::Parse(std::to_string(value.get<int64_t>()));
  if (value.is_number_float()) {
    std::ostringstream text;
    text << value.get<double>();
    return kube::Quantity::Parse(text.str());
  }
  return absl::InvalidArgumentError("a quantity must be a string or a number");
}

// resource -> amount of one container: its requests, and its limits where it requests nothing.
absl::Status AddContainer(const Json& container, kube::ResourceList& out) {
  if (!container.is_object()) return absl::OkStatus();
  auto resources = container.find("resources");
  if (resources == container.end() || !resources->is_object()) return absl::OkStatus();
  kube::ResourceList own;
  for (const char* key : {"limits", "requests"}) {  // requests last: they win
    auto list = resources->find(key);
    if (list == resources->end() || list->is_null()) continue;
    if (!list->is_object()) return absl::InvalidArgumentError(absl::StrCat(key, " is not a map"));
    for (const auto& [name, value] : list->items()) {
      absl::StatusOr<kube::Quantity> quantity = QuantityOf(value);
      if (!quantity.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(key, ".", name, ": ", quantity.status().message()));
      }
      own[name] = *quantity;
    }
  }
  for (const auto& [name, quantity] : own) out[name] += quantity;
  return absl::OkStatus();
}

// What one pod of the template needs to be scheduled: the sum over its containers, or an init
// container's need when that is larger (init containers run one at a time, before the others).
absl::StatusOr<kube::ResourceList> PodRequests(const Json& pod_template) {
  const Json* spec = nullptr;
  if (auto s = pod_template.find("spec"); s != pod_template.end() && s->is_object()) spec = &*s;
  kube::ResourceList total;
  if (spec == nullptr) return total;
  if (auto containers = spec->find("containers");
      containers != spec->end() && containers->is_array()) {
    for (size_t i = 0; i < containers->size(); ++i) {
      if (absl::Status added = AddContainer((*containers)[i], total); !added.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("spec.containers[", i, "].resources.", added.message()));
      }
    }
  }
  if (auto inits = spec->find("initContainers"); inits != spec->end() && inits->is_array()) {
    for (size_t i = 0; i < inits->size(); ++i) {
      kube::ResourceList init;
      if (absl::Status added = AddContainer((*inits)[i], init); !added.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("spec.initContainers[", i, "].resources.", added.message()));
      }
      for (const auto& [name, quantity] : init) {
        auto it = total.find(name);
        if (it == total.end() || it->second < quantity) total[name] = quantity;
      }
    }
  }
  return total;
}

std::string PriorityClassOf(const Json& pod_template) {
  auto spec = pod_template.find("spec");
  if (spec == pod_template.end() || !spec->is_object()) return "";
  auto name = spec->find("priorityClassName");
  return name != spec->end() && name->is_string() ? name->get<std::string>() : "";
}

std::string QuantityText(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();  // a number written without quotes
}

int32_t ClampToInt32(int64_t value) {
  return static_cast<int32_t>(std::clamp<int64_t>(value, 0, INT32_MAX));
}

class GrpcGangClient final : public GangClient {
 public:
  GrpcGangClient(std::shared_ptr<grpc::Channel> channel, std::string address,
                 GrpcGangClientOptions options, absl::Status setup_error)
      : stub_(channel ? v1::GangScheduler::NewStub(channel) : nullptr),
        address_(std::move(address)),
        options_(options),
        setup_error_(std::move(setup_error)) {}

  absl::StatusOr<GangState> EnsureGang(const api::Job& job) override {
    if (!setup_error_.ok()) return setup_error_;
    absl::StatusOr<v1::EnsureGangRequest> request = BuildEnsureGangRequest(job);
    if (!request.ok()) return request.status();
    v1::EnsureGangResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    grpc::Status status = stub_->EnsureGang(&context, *request, &response);
    if (!status.ok()) return FromGrpcStatus(status, address_);
    return StateOf(response.gang());
  }

  absl::StatusOr<GangState> GetGang(const api::Job& job) override {
    if (!setup_error_.ok()) return setup_error_;
    v1::GetGangRequest request;
    *request.mutable_job() = RefOf(job);
    v1::Gang response;
    grpc::ClientContext context;
    SetDeadline(context);
    grpc::Status status = stub_->GetGang(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status, address_);
    return StateOf(response);
  }

  absl::StatusOr<PodBinding> BindPod(const api::Job& job, const std::string& replica_type,
                                     int32_t index, const std::string& scheduler_name) override {
    if (!setup_error_.ok()) return setup_error_;
    v1::BindPodRequest request;
    *request.mutable_job() = RefOf(job);
    request.set_replica_type(replica_type);
    request.set_index(index);
    request.set_current_scheduler_name(scheduler_name);
    v1::BindPodResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    grpc::Status status = stub_->BindPod(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status, address_);
    PodBinding binding;
    binding.labels.insert(response.labels().begin(), response.labels().end());
    binding.annotations.insert(response.annotations().begin(), response.annotations().end());
    binding.scheduler_name = response.scheduler_name();
    binding.warning = response.warning();
    return binding;
  }

  absl::Status DeleteGang(const api::Job& job) override {
    if (!setup_error_.ok()) return setup_error_;
    v1::DeleteGangRequest request;
    *request.mutable_job() = RefOf(job);
    v1::DeleteGangResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    grpc::Status status = stub_->DeleteGang(&context, request, &response);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) return absl::OkStatus();
    return FromGrpcStatus(status, address_);
  }

 private:
  void SetDeadline(grpc::ClientContext& context) const {
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
  }

  absl::StatusOr<GangState> StateOf(const v1::Gang& gang) const {
    GangState state;
    state.backend_phase = gang.backend_phase();
    switch (gang.phase()) {
      case v1::Gang::PENDING: state.admission = GangAdmission::kPending; break;
      case v1::Gang::ADMITTED: state.admission = GangAdmission::kAdmitted; break;
      case v1::Gang::NOT_FOUND: state.admission = GangAdmission::kNotFound; break;
      default:
        // A backend that says nothing must not let pods start outside their gang.
        return absl::UnknownError(absl::StrCat("gang scheduler at ", address_,
                                               " answered a gang without an admission phase"));
    }
    return state;
  }

  std::unique_ptr<v1::GangScheduler::Stub> stub_;
  const std::string address_;
  const GrpcGangClientOptions options_;
  const absl::Status setup_error_;
};

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& address) {
  if (status.ok()) return absl::OkStatus();
  // gRPC's and absl's canonical codes share their numbers.
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string what;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE: what = "is unavailable"; break;
    case grpc::StatusCode::DEADLINE_EXCEEDED: what = "did not answer in time"; break;
    default: what = "answered"; break;
  }
  return absl::Status(code, absl::StrCat("gang scheduler at ", address, " ", what, ": ",
                                         status.error_message()));
}

absl::StatusOr<v1::EnsureGangRequest> BuildEnsureGangRequest(const api::Job& job) {
  v1::EnsureGangRequest request;
  *request.mutable_job() = RefOf(job);

  const api::RunPolicy run_policy = api::EffectiveRunPolicy(job.spec);
  const api::SchedulingPolicy policy = run_policy.scheduling_policy.value_or(
      api::SchedulingPolicy{});

  // Replica types in the kind's reconcile order, so minResources ties follow it.
  std::vector<const api::Replica*> replicas;
  for (std::string_view type : job.descriptor().replica_types) {
    for (const api::Replica& replica : job.spec.replica_specs) {
      if (api::CanonicalReplicaType(job.descriptor(), replica.type) == type) {
        replicas.push_back(&replica);
      }
    }
  }

  int64_t total = 0;
  for (const api::Replica* replica : replicas) {
    const int64_t count = replica->spec.replicas.value_or(1);
    total += std::max<int64_t>(count, 0);
    v1::ReplicaResources* resources = request.add_replicas();
    resources->set_replica_type(
        std::string(api::CanonicalReplicaType(job.descriptor(), replica->type)));
    resources->set_replicas(ClampToInt32(count));
    resources->set_priority_class_name(PriorityClassOf(replica->spec.template_spec));
    absl::StatusOr<kube::ResourceList> per_pod = PodRequests(replica->spec.template_spec);
    if (!per_pod.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(job.descriptor().replica_specs_key), ".",
                       resources->replica_type(), ".template.", per_pod.status().message()));
    }
    for (const auto& [name, quantity] : *per_pod) {
      (*resources->mutable_requests())[name] = quantity.ToString();
    }
  }

  // minAvailable 0 or unset means the whole job; a job with no pods still gets a gang of one
  // so that the request stays valid.
  const int64_t min_member = policy.min_available.value_or(0) > 0 ? *policy.min_available : total;
  request.set_min_member(std::max<int32_t>(ClampToInt32(min_member), 1));
  if (policy.min_resources && policy.min_resources->is_object()) {
    for (const auto& [name, value] : policy.min_resources->items()) {
      (*request.mutable_min_resources())[name] = QuantityText(value);
    }
  }
  request.set_queue(policy.queue.value_or(""));
  request.set_priority_class_name(policy.priority_class.value_or(""));
  request.set_schedule_timeout_seconds(ClampToInt32(policy.schedule_timeout_seconds.value_or(0)));
  return request;
}

std::unique_ptr<GangClient> NewGrpcGangClient(std::shared_ptr<grpc::Channel> channel,
                                              std::string address,
                                              GrpcGangClientOptions options) {
  return std::make_unique<GrpcGangClient>(std::move(channel), std::move(address), options,
                                          absl::OkStatus());
}

std::unique_ptr<GangClient> NewGrpcGangClient(const std::string& address,
                                              const std::string& ca_file) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!ca_file.empty()) {
    std::ifstream in(ca_file);
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in || pem.str().empty()) {
      // Every call reports it: the job's condition says why gang scheduling does not work.
      return std::make_unique<GrpcGangClient>(
          nullptr, address, GrpcGangClientOptions{},
          absl::FailedPreconditionError(absl::StrCat(
              "cannot read the gang scheduler's CA file ", ca_file)));
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(ssl);
  }
  return NewGrpcGangClient(address, std::move(credentials));
}

std::unique_ptr<GangClient> NewGrpcGangClient(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    const grpc::ChannelArguments& extra_arguments) {
  grpc::ChannelArguments arguments = extra_arguments;
  // Notice a vanished service within a minute even when no call is in flight.
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Reconnect attempts back off up to 5 s, so a restarted service is found again quickly.
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  return std::make_unique<GrpcGangClient>(
      grpc::CreateCustomChannel(address, credentials, arguments), address,
      GrpcGangClientOptions{}, absl::OkStatus());
}

}  // namespace kubedl::reconciler
