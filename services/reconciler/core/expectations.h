#pragma once
// What this process has asked the API server to create or delete and not yet seen in its
// informers. A reconcile that runs before the informer caught up must neither create a pod
// again nor recreate one it just deleted. Entries expire so a lost watch event cannot wedge a
// job forever; after a restart the deterministic names (AlreadyExists) take over.
#include <string>


#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kubedl/kube/clock.h"

namespace kubedl::reconciler {

class Expectations {
 public:
  explicit Expectations(kube::Clock& clock = kube::RealClock(),
                        absl::Duration ttl = absl::Minutes(5));

  // Before a create of object `name` (pod or service) for job `job_key`.
  void ExpectCreate(const std::string& job_key, const std::string& name);
  // Before a delete of the object with this uid.
  void ExpectDelete(const std::string& job_key, const std::string& uid);
  // The create failed, or the informer showed the object: nothing pending any more.
  void CreateObserved(const std::string& job_key, const std::string& name);
  // The delete failed, or the informer showed the object gone.
  void DeleteObserved(const std::string& job_key, const std::string& uid);

  bool CreatePending(const std::string& job_key, const std::string& name) const;
  bool DeletePending(const std::string& job_key, const std::string& uid) const;

  // The job is gone: drop its entries.
  void Forget(const std::string& job_key);

 private:
  struct JobEntries {
    absl::flat_hash_map<std::string, absl::Time> creates;  // name -> when asked
    absl::flat_hash_map<std::string, absl::Time> deletes;  // uid -> when asked
  };
  bool Pending(const absl::flat_hash_map<std::string, absl::Time>& entries,
               const std::string& id) const;

  kube::Clock& clock_;
  const absl::Duration ttl_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, JobEntries> jobs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kubedl::reconciler
