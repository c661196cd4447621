#include <algorithm>
#include <climits>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "kubedl/common/json_access.h"
#include "absl/time/clock.h"
#include "kubedl/common/status_macros.h"
#include "kubedl/kube/leader_election.h"

namespace kubedl::kube {
namespace {

// Leases use MicroTime: RFC 3339 with microseconds.
std::string FormatMicroTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}
absl::Time ParseMicroTime(const std::string& s) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return t;
  return absl::UnixEpoch();
}

class LeaseLockImpl final : public LeaseLock {
 public:
  LeaseLockImpl(Client& client, std::string ns, std::string name)
      : client_(client), ns_(std::move(ns)), name_(std::move(name)) {}

  absl::StatusOr<LeaderElectionRecord> Get() override {
    ASSIGN_OR_RETURN(Object lease, client_.Get(resources::Leases(), ns_, name_));
    LeaderElectionRecord r;
    const Object* spec_at = common::Member(lease, "spec");
    const Object spec = spec_at != nullptr ? *spec_at : Object::object();
    r.holder_identity = common::StringOr(spec, "holderIdentity");
    r.lease_duration_seconds =
        static_cast<int>(std::clamp<int64_t>(common::IntOr(spec, "leaseDurationSeconds", 0), 0, INT32_MAX));
    r.acquire_time = ParseMicroTime(common::StringOr(spec, "acquireTime"));
    r.renew_time = ParseMicroTime(common::StringOr(spec, "renewTime"));
    r.lease_transitions =
        static_cast<int>(std::clamp<int64_t>(common::IntOr(spec, "leaseTransitions", 0), 0, INT32_MAX));
    std::lock_guard lock(mu_);
    last_ = std::move(lease);
    return r;
  }

  absl::Status Create(const LeaderElectionRecord& record) override {
    Object lease = {{"apiVersion", "coordination.k8s.io/v1"},
                    {"kind", "Lease"},
                    {"metadata", {{"name", name_}, {"namespace", ns_}}},
                    {"spec", Spec(record)}};
    ASSIGN_OR_RETURN(Object created, client_.Create(resources::Leases(), ns_, lease));
    std::lock_guard lock(mu_);
    last_ = std::move(created);
    return absl::OkStatus();
  }

  absl::Status Update(const LeaderElectionRecord& record) override {
    Object lease;
    {
      std::lock_guard lock(mu_);
      if (last_.is_null()) return absl::FailedPreconditionError("lease not read yet");
      lease = last_;  // carries metadata.resourceVersion: the update is conditional
    }
    lease["spec"] = Spec(record);
    ASSIGN_OR_RETURN(Object updated, client_.Update(resources::Leases(), ns_, lease));
    std::lock_guard lock(mu_);
    last_ = std::move(updated);
    return absl::OkStatus();
  }

  std::string Describe() const override { return absl::StrCat(ns_, "/", name_); }

 private:
  static Object Spec(const LeaderElectionRecord& r) {
    Object spec = {{"leaseDurationSeconds", r.lease_duration_seconds},
                   {"acquireTime", FormatMicroTime(r.acquire_time)},
                   {"renewTime", FormatMicroTime(r.renew_time)},
                   {"leaseTransitions", r.lease_transitions}};
    if (!r.holder_identity.empty()) spec["holderIdentity"] = r.holder_identity;
    return spec;
  }

  Client& client_;
  const std::string ns_, name_;
  std::mutex mu_;
  Object last_;
};

}  // namespace

std::unique_ptr<LeaseLock> NewLeaseLock(Client& client, std::string ns, std::string name) {
  return std::make_unique<LeaseLockImpl>(client, std::move(ns), std::move(name));
}

}  // namespace kubedl::kube
