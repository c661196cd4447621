// Benchmarks of lib/kube against the local control plane (driven by bench/kube/run.sh):
//   kube_bench manifest <count> <prefix>           multi-document YAML of the pods (for kubectl)
//   kube_bench create <ns> <count> <concurrency> <prefix>   create them with our client
//   kube_bench informer <ns> <expected>            sync an informer, report time and RSS
// Pods name a scheduler that does not exist so they stay Pending: the benchmark measures the
// API path, not the fake nodes.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/kube_client.h"
#include "kubedl/kube/informer.h"
#include "kubedl/kube/rest_client.h"

namespace kube = kubedl::kube;
using kubedl::bench::MakeClient;

namespace {

// A pod shaped like the reconciler's: labels, owner, env, resources, ports.
kube::Object BenchPod(const std::string& prefix, int i) {
  std::string name = absl::StrCat(prefix, "-", i);
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"labels",
         {{"training.kubeflow.org/job-name", prefix},
          {"training.kubeflow.org/operator-name", "tfjob-controller"},
          {"training.kubeflow.org/replica-type", "worker"},
          {"training.kubeflow.org/replica-index", std::to_string(i)},
          {"group-name", "kubeflow.org"}}},
        {"annotations", {{"kubedl.io/bench", "true"}}}}},
      {"spec",
       {{"schedulerName", "kubedl-bench-unscheduled"},
        {"restartPolicy", "Never"},
        {"containers",
         {{{"name", "tensorflow"},
           {"image", "kubedl/tf-mnist:1.0"},
           {"command", {"python", "/app/main.py"}},
           {"env",
            {{{"name", "TF_CONFIG"},
              {"value", absl::StrCat(R"({"cluster":{"worker":[")", name,
                                     R"(:2222"]},"task":{"type":"worker","index":)", i,
                                     "}}")}}}},
           {"ports", {{{"name", "tfjob-port"}, {"containerPort", 2222}}}},
           {"resources",
            {{"requests", {{"cpu", "1"}, {"memory", "1Gi"}}},
             {"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}}}}}}}}};
}

long RssKiB(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::string(field).size());
  }
  return -1;
}

int Manifest(int count, const std::string& prefix) {
  for (int i = 0; i < count; ++i) std::printf("---\n%s\n", BenchPod(prefix, i).dump().c_str());
  return 0;
}

int Create(const std::string& ns, int count, int concurrency, const std::string& prefix) {
  auto client = MakeClient(concurrency);
  std::atomic<int> next{0}, failed{0};
  absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        auto s = client->Create(kube::resources::Pods(), ns, BenchPod(prefix, i));
        if (!s.ok()) {
          if (failed++ < 3) std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("create count=%d concurrency=%d seconds=%.3f failed=%d\n", count, concurrency,
              seconds, failed.load());
  return failed.load() == 0 ? 0 : 1;
}

int Informer(const std::string& ns, size_t expected) {
  auto client = MakeClient(4);
  long baseline = RssKiB("VmRSS:");
  kube::InformerOptions options;
  options.resource = kube::resources::Pods();
  options.namespace_name = ns;
  options.transform = kube::DropManagedFields;
  auto informer = kube::NewInformer(*client, options);
  absl::Time start = absl::Now();
  informer->Start();
  if (!informer->WaitForSync(absl::Minutes(5))) {
    std::fprintf(stderr, "informer did not sync\n");
    return 1;
  }
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  size_t cached = informer->Size();
  long rss = RssKiB("VmRSS:");
  long peak = RssKiB("VmHWM:");
  std::printf(
      "informer cached=%zu expected=%zu seconds=%.3f baseline_rss_kib=%ld rss_kib=%ld "
      "peak_rss_kib=%ld rss_per_pod_bytes=%.0f peak_per_pod_bytes=%.0f\n",
      cached, expected, seconds, baseline, rss, peak,
      (rss - baseline) * 1024.0 / static_cast<double>(cached),
      (peak - baseline) * 1024.0 / static_cast<double>(cached));
  informer->Stop();
  return cached >= expected ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "manifest" && argc == 4) return Manifest(std::atoi(argv[2]), argv[3]);
  if (cmd == "create" && argc == 6)
    return Create(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), argv[5]);
  if (cmd == "informer" && argc == 4) return Informer(argv[2], std::atoll(argv[3]));
  std::fprintf(stderr,
               "usage: kube_bench manifest <count> <prefix>\n"
               "       kube_bench create <ns> <count> <concurrency> <prefix>\n"
               "       kube_bench informer <ns> <expected>\n");
  return 2;
}
