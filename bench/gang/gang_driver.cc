// Load driver for a gang scheduler backend: `callers` threads, each taking the next job and
// calling EnsureGang once and BindPod once per pod of that job, what the reconciler does for a
// new job. Then the same jobs again and again for STEADY_SECONDS (env, default 5: EnsureGang on
// gangs that exist, the reconciler's steady state; one pass of a few hundred calls lasts tens of
// milliseconds, too short to be a rate). Prints throughput and latency percentiles per call type.
//
//   gang_driver ADDRESS NAMESPACE JOBS CALLERS PODS_PER_JOB [TLS_DIR SERVER_NAME]
//
// With TLS_DIR the channels use mutual TLS as the reconciler does: TLS_DIR holds tls.crt,
// tls.key and ca.crt (the layout of the chart's reconciler Secret) and the server's certificate
// must name SERVER_NAME. Without, plaintext (the service needs --insecure-plaintext).
//
// Every gang belongs to a TFJob made beforehand (not timed; the TFJob CRD must be installed),
// so the garbage collector leaves the PodGroups alone during the run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "kubedl/common/grpc_channel_credentials.h"
#include "kubedl/common/service_main.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/object.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/v1/gang_scheduler.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Samples {
  std::vector<double> ms;
  int errors = 0;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

void Report(const char* name, const std::vector<Samples>& per_thread, double seconds) {
  std::vector<double> all;
  int errors = 0;
  for (const Samples& s : per_thread) {
    all.insert(all.end(), s.ms.begin(), s.ms.end());
    errors += s.errors;
  }
  std::printf("%-22s calls=%zu errors=%d rate=%.0f/s p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n",
              name, all.size(), errors, static_cast<double>(all.size()) / seconds,
              Percentile(all, 0.50), Percentile(all, 0.90), Percentile(all, 0.99),
              Percentile(all, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 8) {
    std::fprintf(stderr,
                 "usage: %s ADDRESS NAMESPACE JOBS CALLERS PODS_PER_JOB [TLS_DIR SERVER_NAME]\n",
                 argv[0]);
    return 2;
  }
  kubedl::common::DisableMutexDeadlockDetection();  // as in the reconciler
  const std::string tls_dir = argc == 8 ? argv[6] : "";
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      kubedl::common::GrpcChannelCredentials(
          {.ca_file = tls_dir.empty() ? "" : tls_dir + "/ca.crt",
           .cert_file = tls_dir.empty() ? "" : tls_dir + "/tls.crt",
           .key_file = tls_dir.empty() ? "" : tls_dir + "/tls.key"},
          /*insecure_plaintext=*/tls_dir.empty());
  if (!credentials.ok()) {
    std::fprintf(stderr, "TLS: %s\n", credentials.status().ToString().c_str());
    return 2;
  }
  const std::string address = argv[1], ns = argv[2];
  const int jobs = std::atoi(argv[3]), callers = std::atoi(argv[4]), pods = std::atoi(argv[5]);

  auto config = kubedl::kube::LoadKubeconfigFromEnv();
  if (!config.ok()) {
    std::fprintf(stderr, "kubeconfig: %s\n", config.status().ToString().c_str());
    return 1;
  }
  auto client = kubedl::kube::NewClient(*config);
  if (!client.ok()) return 1;
  std::vector<kubedl::v1::JobRef> refs(jobs);
  {
    std::atomic<int> next{0};
    std::vector<std::thread> makers;
    for (int t = 0; t < 16; ++t) {
      makers.emplace_back([&] {
        for (int i = next++; i < jobs; i = next++) {
          const std::string name = absl::StrCat("bench-", i);
          // A TFJob, since the service only makes PodGroups for jobs of the kinds KubeDL serves
          // (and checks the owner's UID against the live job). No reconciler runs: it stays put.
          kubedl::kube::Object owner = kubedl::kube::Object::parse(absl::StrCat(
              R"({"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "metadata": {"name": ")",
              name,
              R"("}, "spec": {"tfReplicaSpecs": {"Worker": {"replicas": )", pods,
              R"(, "template": {"spec": {"containers": [{"name": "tensorflow",)",
              R"( "image": "kubedl/bench:none"}]}}}}}})"));
          auto created = (*client)->Create({"kubeflow.org", "v1", "tfjobs", true}, ns, owner);
          if (!created.ok()) {
            std::fprintf(stderr, "owner %s: %s\n", name.c_str(), created.status().ToString().c_str());
            std::exit(1);
          }
          refs[i].set_api_version("kubeflow.org/v1");
          refs[i].set_kind("TFJob");
          refs[i].set_namespace_(ns);
          refs[i].set_name(name);
          refs[i].set_uid(kubedl::kube::Uid(*created));
        }
      });
    }
    for (auto& t : makers) t.join();
  }

  // One channel per 8 callers: like several reconcilers, and not one HTTP/2 connection's limit.
  std::vector<std::unique_ptr<kubedl::v1::GangScheduler::Stub>> stubs;
  for (int i = 0; i < (callers + 7) / 8; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("kubedl.bench.channel", i);  // distinct arguments: distinct connections
    if (argc == 8) args.SetSslTargetNameOverride(argv[7]);
    stubs.push_back(kubedl::v1::GangScheduler::NewStub(
        grpc::CreateCustomChannel(address, *credentials, args)));
  }

  const char* steady_env = std::getenv("STEADY_SECONDS");
  const double steady_seconds = steady_env != nullptr ? std::atof(steady_env) : 5.0;
  // Each job once; with min_seconds > 0, round and round the jobs until that long has passed.
  auto run = [&](bool bind, const char* ensure_name, double min_seconds) {
    std::vector<Samples> ensure(callers), binds(callers);
    std::atomic<int> next{0};
    const Clock::time_point start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < callers; ++t) {
      threads.emplace_back([&, t] {
        kubedl::v1::GangScheduler::Stub& stub = *stubs[t / 8];
        for (int k = next++;; k = next++) {
          if (k >= jobs && std::chrono::duration<double>(Clock::now() - start).count() >= min_seconds) {
            break;
          }
          const int i = k % jobs;
          kubedl::v1::EnsureGangRequest request;
          *request.mutable_job() = refs[i];
          request.set_min_member(pods);
          kubedl::v1::ReplicaResources* worker = request.add_replicas();
          worker->set_replica_type("Worker");
          worker->set_replicas(pods);
          (*worker->mutable_requests())["cpu"] = "2";
          (*worker->mutable_requests())["memory"] = "4Gi";
          (*worker->mutable_requests())["nvidia.com/gpu"] = "1";
          kubedl::v1::EnsureGangResponse response;
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
          Clock::time_point before = Clock::now();
          grpc::Status status = stub.EnsureGang(&context, request, &response);
          ensure[t].ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - before).count());
          if (!status.ok()) {
            if (++ensure[t].errors == 1) {
              std::fprintf(stderr, "EnsureGang: %s\n", status.error_message().c_str());
            }
          }
          for (int p = 0; bind && p < pods; ++p) {
            kubedl::v1::BindPodRequest bind_request;
            *bind_request.mutable_job() = refs[i];
            bind_request.set_replica_type("Worker");
            bind_request.set_index(p);
            kubedl::v1::BindPodResponse binding;
            grpc::ClientContext bind_context;
            bind_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
            before = Clock::now();
            grpc::Status bound = stub.BindPod(&bind_context, bind_request, &binding);
            binds[t].ms.push_back(
                std::chrono::duration<double, std::milli>(Clock::now() - before).count());
            if (!bound.ok()) ++binds[t].errors;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const int passes = std::max(jobs, next.load() - callers);
    std::printf("%s: %d jobs x (1 EnsureGang%s) by %d callers in %.2f s = %.0f jobs/s\n",
                ensure_name, passes, bind ? absl::StrCat(" + ", pods, " BindPod").c_str() : "",
                callers, seconds, passes / seconds);
    Report(ensure_name, ensure, seconds);
    if (bind) Report("BindPod", binds, seconds);
  };
  run(true, "EnsureGang(create)", 0);
  run(false, "EnsureGang(exists)", steady_seconds);
  return 0;
}
