// The reconciler benchmark's driver (bench/reconciler/run.sh runs it; not a test):
//   reconciler_bench submit <ns> <jobs> <workers>
//       submits <jobs> TFJobs of 1 PS + <workers> Workers at once, then reports when all their
//       pods and services exist and when every job is Running (KWOK runs the pods), measured
//       from the first submission, with informers (no polling of the API server).
//   reconciler_bench floor <ns> <jobs> <workers> <concurrency>
//       creates the same pods and headless services with lib/kube alone (no reconciler) at
//       <concurrency>: the floor the reconciler is compared with; also reports when every one
//       of those pods is Running, the limit the scheduler's own binding rate sets.
// RECONCILER_BENCH_TIMEOUT_S (600) bounds each wait.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/kube_client.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/resource.h"
#include "kubedl/kube/rest_client.h"

namespace kube = kubedl::kube;
using kubedl::bench::MakeClient;
using kube::Object;

namespace {

const kube::ResourceRef kTfJobs{"kubeflow.org", "v1", "tfjobs", true};

Object Template() {
  return {{"spec",
           {{"containers",
             Object::array({{{"name", "tensorflow"},
                             {"image", "kubedl/tf-mnist:1.0"},
                             {"command", {"python", "/app/main.py"}},
                             {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}}}},
                             {"ports", Object::array({{{"name", "tfjob-port"},
                                                       {"containerPort", 2222}}})}}})}}}};
}

Object TfJob(int i, int workers) {
  return {{"apiVersion", "kubeflow.org/v1"},
          {"kind", "TFJob"},
          {"metadata", {{"name", absl::StrCat("bench-", i)}}},
          {"spec",
           {{"tfReplicaSpecs",
             {{"PS", {{"replicas", 1}, {"template", Template()}}},
              {"Worker", {{"replicas", workers}, {"template", Template()}}}}}}}};
}

// Runs `work(i)` for i in [0, count) on `concurrency` threads; returns the failures.
int Parallel(int count, int concurrency, const std::function<bool(int)>& work) {
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        if (!work(i)) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  return failed.load();
}

absl::Duration WaitLimit() {
  const char* text = std::getenv("RECONCILER_BENCH_TIMEOUT_S");
  const int seconds = text != nullptr ? std::atoi(text) : 0;
  return absl::Seconds(seconds > 0 ? seconds : 600);
}

// Counts what an informer holds, checked every 50 ms until `done` or the timeout.
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout = WaitLimit()) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return done();
}

std::unique_ptr<kube::Informer> Watch(kube::Client& client, const kube::ResourceRef& ref,
                                      const std::string& ns, const std::string& selector) {
  kube::InformerOptions options;
  options.resource = ref;
  options.namespace_name = ns;
  options.label_selector = selector;
  options.transform = [](Object& o) {
    kube::DropManagedFields(o);
    o.erase("spec");
  };
  auto informer = kube::NewInformer(client, std::move(options));
  informer->Start();
  informer->WaitForSync(absl::Minutes(1));
  return informer;
}

bool Running(const Object& job) {
  for (const Object& c :
       job.value("status", Object::object()).value("conditions", Object::array())) {
    if (c.value("type", "") == "Running" && c.value("status", "") == "True") return true;
  }
  return false;
}

int Submit(const std::string& ns, int jobs, int workers) {
  auto client = MakeClient(32);
  const std::string ours = "training.kubeflow.org/operator-name=tfjob-controller";
  auto pods = Watch(*client, kube::resources::Pods(), ns, ours);
  auto services = Watch(*client, kube::resources::Services(), ns, ours);
  auto tfjobs = Watch(*client, kTfJobs, ns, "");
  const size_t want = static_cast<size_t>(jobs) * static_cast<size_t>(workers + 1);

  const absl::Time start = absl::Now();
  const int failed = Parallel(jobs, 16, [&](int i) {
    auto created = client->Create(kTfJobs, ns, TfJob(i, workers));
    if (!created.ok()) std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return created.ok();
  });
  const double submitted = absl::ToDoubleSeconds(absl::Now() - start);
  if (failed > 0) return 1;
  const bool all_exist =
      WaitUntil([&] { return pods->Size() >= want && services->Size() >= want; });
  const double exist = absl::ToDoubleSeconds(absl::Now() - start);
  const bool all_running = WaitUntil(
      [&] {
        size_t running = 0;
        for (const Object& job : tfjobs->List("")) running += Running(job) ? 1 : 0;
        return running >= static_cast<size_t>(jobs);
      });
  const double running = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("submit jobs=%d pods=%zu services=%zu submitted_s=%.3f all_exist_s=%.3f "
              "all_running_s=%.3f%s\n",
              jobs, pods->Size(), services->Size(), submitted, exist, running,
              all_exist && all_running ? "" : " timed_out=1");
  for (auto* informer : {pods.get(), services.get(), tfjobs.get()}) informer->Stop();
  return all_exist && all_running ? 0 : 1;
}

// The reconciler's objects for job i, replica r (0 = PS, else worker r-1): same size and shape.
// The pods are scheduled and run on the fake nodes like the reconciler's, so the API server does
// the same work around them while the floor is measured.
std::pair<Object, Object> PodAndService(int job, int r, int workers) {
  const std::string type = r == 0 ? "ps" : "worker";
  const int index = r == 0 ? 0 : r - 1;
  const std::string name = absl::StrCat("floor-", job, "-", type, "-", index);
  Object labels = {{"training.kubeflow.org/operator-name", "floor"},
                   {"training.kubeflow.org/job-name", absl::StrCat("floor-", job)},
                   {"training.kubeflow.org/replica-type", type},
                   {"training.kubeflow.org/replica-index", std::to_string(index)},
                   {"group-name", "kubeflow.org"},
                   {"job-name", absl::StrCat("floor-", job)},
                   {"replica-type", type},
                   {"replica-index", std::to_string(index)}};
  std::string cluster = R"({"cluster":{"ps":["floor-)" + std::to_string(job) + R"(-ps-0:2222"],"worker":[)";
  for (int w = 0; w < workers; ++w) {
    absl::StrAppend(&cluster, w ? "," : "", "\"floor-", job, "-worker-", w, ":2222\"");
  }
  absl::StrAppend(&cluster, R"(]},"task":{"type":")", type, R"(","index":)", index,
                  R"(},"environment":"cloud"})");
  Object container = Template()["spec"]["containers"][0];
  container["env"] = Object::array({{{"name", "TF_CONFIG"}, {"value", cluster}}});
  Object pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"labels", labels}}},
                {"spec",
                 {{"restartPolicy", "Never"},
                  {"containers", Object::array({container})}}}};
  Object service = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", {{"name", name}, {"labels", labels}}},
                    {"spec",
                     {{"clusterIP", "None"},
                      {"selector", labels},
                      {"ports", Object::array({{{"name", "tfjob-port"}, {"port", 2222},
                                                {"targetPort", 2222}}})}}}};
  return {pod, service};
}

int Floor(const std::string& ns, int jobs, int workers, int concurrency) {
  auto client = MakeClient(concurrency);
  const int per_job = workers + 1;
  auto pods = Watch(*client, kube::resources::Pods(), ns, "training.kubeflow.org/operator-name=floor");
  const absl::Time start = absl::Now();
  const int failed = Parallel(jobs * per_job, concurrency, [&](int i) {
    auto [pod, service] = PodAndService(i / per_job, i % per_job, workers);
    // As the reconciler writes them: the answer is not read, so it comes in protobuf.
    absl::Status p = client->CreateStatusOnly(kube::resources::Pods(), ns, pod);
    absl::Status s = client->CreateStatusOnly(kube::resources::Services(), ns, service);
    return p.ok() && s.ok();
  });
  const double exist = absl::ToDoubleSeconds(absl::Now() - start);
  const auto want = static_cast<size_t>(jobs * per_job);
  const bool all_running = failed == 0 && WaitUntil([&] {
    size_t running = 0;
    for (const Object& pod : pods->List("")) {
      running += pod.value("status", Object::object()).value("phase", "") == "Running" ? 1 : 0;
    }
    return running >= want;
  });
  std::printf("floor objects=%d concurrency=%d seconds=%.3f failed=%d all_running_s=%.3f%s\n",
              jobs * per_job * 2, concurrency, exist, failed,
              absl::ToDoubleSeconds(absl::Now() - start), all_running ? "" : " timed_out=1");
  pods->Stop();
  return failed == 0 && all_running ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "submit" && argc == 5) return Submit(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  if (cmd == "floor" && argc == 6) {
    return Floor(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
  }
  std::fprintf(stderr,
               "usage: reconciler_bench submit <ns> <jobs> <workers>\n"
               "       reconciler_bench floor <ns> <jobs> <workers> <concurrency>\n");
  return 2;
}
