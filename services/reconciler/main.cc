// kubedl-reconciler: runs the job controllers of the enabled workloads against the API server.
// Flags are documented in docs/reconciler.md.
#include <algorithm>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/controller_manager.h"
#include "core/job_event_emitter.h"
#include "core/thread_pool_parallel_runner.h"
#include "core/workloads.h"
#include "kubedl/api/pod_schema_source.h"
#include "kubedl/api/validation.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/security/credentials.h"
#include "kubedl/common/grpc_channel_credentials.h"
#include "kubedl/common/http_server.h"
#include "kubedl/common/json_access.h"
#include "kubedl/common/metrics_handler.h"
#include "kubedl/common/service_main.h"
#include "kubedl/kube/config.h"
#include "kubedl/kube/event_recorder.h"
#include "kubedl/kube/leader_election.h"
#include "kubedl/kube/rest_client.h"
#include "kubedl/metrics/grpc_job_event_sink.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/reconciler/gang/grpc_gang_client.h"

DEFINE_string(kubeconfig, "", "Kubeconfig file; empty: $KUBECONFIG, else the in-cluster config.");
DEFINE_string(namespace, "", "Namespace to watch; empty watches all namespaces.");
DEFINE_string(workloads, "",
              "Job kinds to run: auto (those whose CRD is served, also later), *, or a comma list "
              "of kinds with -Kind to disable one. Empty: $WORKLOADS_ENABLE, else auto.");
DEFINE_int32(max_concurrent_reconciles, 16,
             "Jobs reconciled at the same time; their creates share --create-parallelism threads.");
DEFINE_string(owned_event_batch_period, "500ms",
              "How long a pod or service event waits before it wakes its job, so that a "
              "burst of them costs one reconcile; 0: at once.");
DEFINE_int32(malloc_arenas, 2,
             "Most glibc malloc arenas; each of the many create and watch threads would "
             "otherwise grow its own (up to 8 per core), keeping freed memory apart. 0: "
             "glibc's default (or $MALLOC_ARENA_MAX).");
DEFINE_int32(create_parallelism, 32,
             "Threads, shared by all workers, that send a slow-start batch of creates at once.");
DEFINE_int32(event_queue_limit, 4096,
             "Events waiting to be written before new ones are combined per object and reason "
             "(at most as many again), then dropped.");
DEFINE_int32(event_cache_limit, 4096,
             "Events written, and objects correlated, remembered to count repeats into.");
DEFINE_int64(max_replicas_per_type, kubedl::api::kDefaultMaxReplicasPerType,
             "Most replicas one replica type of a job may have; a job with more fails with "
             "reason <Kind>FailedValidation (the webhook refuses it with the same limit).");
DEFINE_int64(max_replicas_per_job, kubedl::api::kDefaultMaxReplicasPerJob,
             "Most replicas of all types one job may have; a job with more fails with reason "
             "<Kind>FailedValidation.");
DEFINE_string(pod_schema_refresh_interval, "10m",
              "How often the Pod schema that templates are validated against is re-read from "
              "the API server's OpenAPI v3 document; 0: read once at start-up.");
DEFINE_bool(leader_elect, true, "Reconcile only while holding the leader Lease.");
DEFINE_string(leader_elect_namespace, "", "Namespace of the Lease; empty: the config's namespace.");
DEFINE_string(leader_elect_name, "kubedl-reconciler", "Name of the Lease.");
DEFINE_string(leader_elect_lease_duration, "15s", "How long a leader's Lease is valid.");
DEFINE_string(leader_elect_renew_deadline, "10s", "How long the leader tries to renew.");
DEFINE_string(leader_elect_retry_period, "2s", "How often candidates retry.");
DEFINE_double(kube_api_qps, 0, "Client-side request rate limit; 0: none (the server has APF).");
DEFINE_int32(kube_api_burst, 0, "Burst of --kube-api-qps.");
DEFINE_string(kube_api_content_type, "protobuf",
              "Encoding of the pods, services and Events the reconciler creates: protobuf (as "
              "client-go's clients write built-in kinds) or json.");
DEFINE_string(bind_address, "0.0.0.0", "Address the health and metrics ports listen on.");
DEFINE_int32(health_port, 8081, "Plain-HTTP port of /healthz and /readyz; 0 = off.");
DEFINE_int32(metrics_port, 8080, "Plain-HTTP port of /metrics; 0 = off.");
DEFINE_string(gang_scheduler_address, "", "host:port of the gang-scheduler service; empty: none.");
DEFINE_string(gang_scheduler_ca_file, "",
              "CA to verify the gang scheduler's TLS certificate (chain, and a subjectAltName "
              "matching the host of --gang-scheduler-address).");
DEFINE_string(metrics_sink_address, "", "host:port of kubedl-metrics' gRPC port; empty: none.");
DEFINE_string(metrics_sink_ca_file, "",
              "CA to verify kubedl-metrics' TLS certificate (chain, and a subjectAltName "
              "matching the host of --metrics-sink-address).");
DEFINE_string(grpc_client_cert_file, "",
              "PEM client certificate the reconciler presents to the gang scheduler and "
              "kubedl-metrics (mutual TLS); with --grpc-client-key-file. Re-read within a "
              "minute of a change, like the CA files.");
DEFINE_string(grpc_client_key_file, "", "PEM private key of --grpc-client-cert-file.");
DEFINE_bool(insecure_plaintext_grpc, false,
            "Talk plaintext gRPC to a gang scheduler or kubedl-metrics given no CA file. For "
            "local development only: without it a service address needs its CA file.");
DEFINE_string(metrics_snapshot_interval, "30s",
              "How often the live jobs are sent to kubedl-metrics to rebuild its gauges.");
DEFINE_string(master_wait_image, "busybox:1.36",
              "Image of the init container that makes PyTorch workers wait for the master.");
DEFINE_int32(master_wait_retries, 120, "DNS lookups of the master before a worker gives up.");
DEFINE_int32(master_wait_interval_seconds, 2, "Seconds between those lookups.");
DEFINE_string(mpi_kubectl_delivery_image, "ghcr.io/kubeflow/training-v1/kubectl-delivery:latest",
              "Image of the MPI launcher's init container: it provides kubectl (/bin/kubectl) "
              "and sh, and waits for the workers to run.");

namespace kubedl::reconciler {
namespace {

absl::Duration DurationFlag(const std::string& name, const std::string& value) {
  absl::Duration d;
  if (!absl::ParseDuration(value, &d) || d <= absl::ZeroDuration()) {
    LOG(FATAL) << "--" << name << ": not a positive duration: " << value;
  }
  return d;
}

// Credentials of the channel to one of our gRPC services whose CA is in --<ca_flag>: mutual TLS
// with --grpc-client-cert-file, plaintext only under --insecure-plaintext-grpc.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ServiceChannelCredentials(
    const char* ca_flag, const std::string& ca_file) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      common::GrpcChannelCredentials({.ca_file = ca_file,
                                      .cert_file = FLAGS_grpc_client_cert_file,
                                      .key_file = FLAGS_grpc_client_key_file,
                                      .reload_check_interval = std::chrono::minutes(1)},
                                     FLAGS_insecure_plaintext_grpc);
  if (!credentials.ok()) {
    return absl::Status(credentials.status().code(),
                        absl::StrCat("--", ca_flag, ": ", credentials.status().message(),
                                     " (--insecure-plaintext-grpc for local development)"));
  }
  if (ca_file.empty()) {
    LOG(WARNING) << "--insecure-plaintext-grpc: no --" << ca_flag
                 << ", this channel is plaintext and unauthenticated";
  }
  return credentials;
}

// "kubedl-reconciler: <message>" on stderr: a start-up error the user must fix (exit code 2).
int StartUpError(const absl::Status& status) {
  std::fprintf(stderr, "kubedl-reconciler: %s\n", std::string(status.message()).c_str());
  return 2;
}

// The process: its parts in the order they are built (and, reversed, destroyed).
// SIGTERM and SIGINT are blocked from the first line of main() and taken at the end of Run(),
// so a signal at any moment of start-up is a clean shutdown, never the default action.
class ReconcilerProcess {
 public:
  int Run();

 private:
  absl::Status Connect();
  absl::Status BuildDeps();
  absl::Status ConnectMetricsSink();
  void ServeHttp();
  // Starting the manager waits for the caches to sync, so it runs on `starter_`, a thread this
  // object owns and joins; the main thread stays in sigwait, and manager_->Stop() cuts a start in
  // progress short. Once `stopping_` is set (under start_mu_) no start begins.
  void StartInBackground();
  absl::Status StartLeaderElection();
  void Shutdown();

  absl::StatusOr<WorkloadSelection> workloads_;
  absl::StatusOr<kube::Config> config_;
  std::unique_ptr<kube::Client> client_;
  std::string host_;
  std::string identity_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<kube::EventRecorder> events_;
  // One bounded pool for the slow-start creates of every worker; it outlives the manager.
  std::unique_ptr<ThreadPoolParallelRunner> create_runner_;
  ReconcilerDeps deps_;
  std::unique_ptr<api::PodSchemaSource> pod_schema_;
  std::unique_ptr<GangClient> gang_;
  std::unique_ptr<ControllerManager> manager_;
  // The sink's thread asks for snapshots from its start, before the manager exists.
  std::atomic<ControllerManager*> snapshot_source_{nullptr};
  std::unique_ptr<metrics::GrpcJobEventSink> sink_;
  std::unique_ptr<JobEventEmitter> emitter_;
  std::atomic<bool> leading_{false};
  std::vector<std::unique_ptr<common::HttpServer>> servers_;
  absl::Mutex start_mu_;
  std::atomic<bool> stopping_{false};
  std::thread starter_;  // guarded by start_mu_
  std::unique_ptr<kube::LeaseLock> lock_;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::thread election_;
};

absl::Status ReconcilerProcess::Connect() {
  const char* env = std::getenv("WORKLOADS_ENABLE");
  workloads_ = ParseWorkloads(FLAGS_workloads, env ? env : "");
  if (!workloads_.ok()) return workloads_.status();
  config_ = FLAGS_kubeconfig.empty() ? kube::DefaultConfig()
                                     : kube::LoadKubeconfig({FLAGS_kubeconfig});
  if (!config_.ok()) return absl::InvalidArgumentError(config_.status().ToString());
  config_->qps = FLAGS_kube_api_qps;
  config_->burst = FLAGS_kube_api_burst;
  if (FLAGS_kube_api_content_type != "protobuf" && FLAGS_kube_api_content_type != "json")
    return absl::InvalidArgumentError("--kube-api-content-type must be protobuf or json");
  config_->protobuf = FLAGS_kube_api_content_type == "protobuf";
  config_->user_agent = "kubedl-reconciler";
  absl::StatusOr<std::unique_ptr<kube::Client>> client = kube::NewClient(*config_);
  if (!client.ok()) return absl::InvalidArgumentError(client.status().ToString());
  client_ = std::move(*client);
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  host_ = host;
  identity_ = absl::StrCat(host_, "_", getpid());
  events_ = kube::NewEventRecorder(
      *client_, {.component = "kubedl-reconciler",
                 .host = host_,
                 .queue_limit = static_cast<size_t>(std::max(FLAGS_event_queue_limit, 1)),
                 .cache_limit = static_cast<size_t>(std::max(FLAGS_event_cache_limit, 1))});
  return absl::OkStatus();
}

absl::Status ReconcilerProcess::BuildDeps() {
  create_runner_ = std::make_unique<ThreadPoolParallelRunner>(
      static_cast<size_t>(std::max(1, FLAGS_create_parallelism)));
  deps_.client = client_.get();
  deps_.create_runner = create_runner_.get();
  deps_.validation.max_replicas_per_type = FLAGS_max_replicas_per_type;
  deps_.validation.max_replicas_per_job = FLAGS_max_replicas_per_job;
  // The Pod schema the webhook checks templates against, so a job created while the webhook
  // was down is refused for the same reasons (the built-in schema when it cannot be read).
  absl::Duration schema_refresh;
  if (!absl::ParseDuration(FLAGS_pod_schema_refresh_interval, &schema_refresh) ||
      schema_refresh < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--pod-schema-refresh-interval: not a duration: ", FLAGS_pod_schema_refresh_interval));
  }
  pod_schema_ = api::NewApiServerPodSchemaSource(*config_, schema_refresh);
  LOG(INFO) << "Pod schema: " << pod_schema_->Current()->origin();
  deps_.pod_schema = [source = pod_schema_.get()] { return source->Current(); };
  deps_.events = events_.get();
  if (const char* domain = std::getenv("CUSTOM_CLUSTER_DOMAIN")) {
    deps_.framework_options.cluster_domain = domain;
  }
  deps_.framework_options.master_wait_image = FLAGS_master_wait_image;
  deps_.framework_options.master_wait_retries = FLAGS_master_wait_retries;
  deps_.framework_options.master_wait_interval_seconds = FLAGS_master_wait_interval_seconds;
  deps_.framework_options.mpi_kubectl_delivery_image = FLAGS_mpi_kubectl_delivery_image;
  if (!FLAGS_gang_scheduler_address.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        ServiceChannelCredentials("gang-scheduler-ca-file", FLAGS_gang_scheduler_ca_file);
    if (!credentials.ok()) return credentials.status();
    gang_ = NewGrpcGangClient(FLAGS_gang_scheduler_address, *std::move(credentials));
    deps_.gang = gang_.get();
  }
  return absl::OkStatus();
}

// The metrics sink needs the manager (snapshots of live jobs), the manager needs the emitter:
// the sink comes first and reads the manager through snapshot_source_ once it exists.
absl::Status ReconcilerProcess::ConnectMetricsSink() {
  prometheus::Counter& dropped = prometheus::BuildCounter()
                                     .Name("kubedl_reconciler_metrics_events_dropped_total")
                                     .Help("Job events dropped because the metrics service was "
                                           "slow or absent and the buffer was full.")
                                     .Register(*registry_)
                                     .Add({});
  if (FLAGS_metrics_sink_address.empty()) return absl::OkStatus();
  metrics::GrpcJobEventSinkOptions sink_options;
  sink_options.target = FLAGS_metrics_sink_address;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ServiceChannelCredentials("metrics-sink-ca-file", FLAGS_metrics_sink_ca_file);
  if (!credentials.ok()) return credentials.status();
  sink_options.credentials = *std::move(credentials);
  sink_options.dropped_counter = &dropped;
  sink_options.snapshot_interval =
      DurationFlag("metrics-snapshot-interval", FLAGS_metrics_snapshot_interval);
  sink_options.live_jobs = [this]() {
    std::vector<v1::LiveJob> live;
    ControllerManager* source = snapshot_source_.load(std::memory_order_acquire);
    if (source == nullptr) return live;
    for (auto& [job, state] : source->LiveJobs()) {
      v1::LiveJob entry;
      entry.mutable_job()->set_uid(kube::Uid(job));
      entry.mutable_job()->set_kind(common::StringOr(job, "kind"));
      entry.mutable_job()->set_namespace_(kube::Namespace(job));
      entry.mutable_job()->set_name(kube::Name(job));
      entry.set_state(state);
      live.push_back(std::move(entry));
    }
    return live;
  };
  sink_ = std::make_unique<metrics::GrpcJobEventSink>(std::move(sink_options));
  emitter_ = std::make_unique<JobEventEmitter>(*sink_);
  deps_.job_events = emitter_.get();
  return absl::OkStatus();
}

void ReconcilerProcess::ServeHttp() {
  auto serve = [&](int port, common::HttpRoutes routes) {
    if (port <= 0) return;
    auto server = common::StartHttpServer(
        {.address = FLAGS_bind_address, .port = static_cast<uint16_t>(port)}, std::move(routes));
    if (!server.ok()) LOG(FATAL) << "port " << port << ": " << server.status();
    servers_.push_back(std::move(*server));
  };
  common::HttpRoutes health;
  health["/healthz"] = [](const common::HttpRequest&) { return common::HttpResponse{.body = "ok"}; };
  // Ready when reconciling, or when standing by for the lease (a standby is healthy).
  health["/readyz"] = [this](const common::HttpRequest&) {
    if (leading_.load() && !manager_->Ready()) {
      return common::HttpResponse{.status = 503, .body = "caches syncing"};
    }
    return common::HttpResponse{.body = "ok"};
  };
  common::HttpRoutes metrics_routes;
  metrics_routes["/metrics"] = common::MakeMetricsHandler({registry_});
  if (FLAGS_health_port == FLAGS_metrics_port) {
    health.merge(metrics_routes);
    serve(FLAGS_health_port, std::move(health));
  } else {
    serve(FLAGS_health_port, std::move(health));
    serve(FLAGS_metrics_port, std::move(metrics_routes));
  }
}

void ReconcilerProcess::StartInBackground() {
  absl::MutexLock guard(&start_mu_);
  if (stopping_.load() || starter_.joinable()) return;
  starter_ = std::thread([this] {
    LOG(INFO) << "reconciling " << (workloads_->discover ? "(auto) " : "")
              << absl::StrJoin(workloads_->kinds, ", ", [](std::string* out, api::JobKind k) {
                   out->append(api::Describe(k).name);
                 });
    absl::Status started = manager_->Start();
    if (absl::IsCancelled(started)) return;  // shutting down
    if (!started.ok()) LOG(FATAL) << "starting the controllers: " << started;
  });
}

absl::Status ReconcilerProcess::StartLeaderElection() {
  const std::string lease_ns = FLAGS_leader_elect_namespace.empty()
                                   ? client_->DefaultNamespace()
                                   : FLAGS_leader_elect_namespace;
  lock_ = kube::NewLeaseLock(*client_, lease_ns, FLAGS_leader_elect_name);
  kube::LeaderElectionConfig election_config;
  election_config.identity = identity_;
  election_config.lease_duration =
      DurationFlag("leader-elect-lease-duration", FLAGS_leader_elect_lease_duration);
  election_config.renew_deadline =
      DurationFlag("leader-elect-renew-deadline", FLAGS_leader_elect_renew_deadline);
  election_config.retry_period =
      DurationFlag("leader-elect-retry-period", FLAGS_leader_elect_retry_period);
  election_config.on_started_leading = [this] {
    if (stopping_.load()) return;
    LOG(INFO) << identity_ << " is the leader";
    leading_ = true;
    StartInBackground();
  };
  // Another process may already be reconciling: stop at once, without cleanup that could race
  // it. The process manager restarts us as a candidate. Releasing the Lease on shutdown is not
  // losing it.
  election_config.on_stopped_leading = [this] {
    if (leading_.load() && !stopping_.load()) {
      LOG(ERROR) << identity_ << " lost the lease; exiting";
      google::FlushLogFiles(google::GLOG_INFO);
      _exit(1);
    }
  };
  absl::Status valid = kube::ValidateLeaderElectionConfig(election_config);
  if (!valid.ok()) return absl::InvalidArgumentError(valid.ToString());
  elector_ = std::make_unique<kube::LeaderElector>(*lock_, election_config);
  election_ = std::thread([this] { elector_->Run(); });
  return absl::OkStatus();
}

void ReconcilerProcess::Shutdown() {
  {
    absl::MutexLock guard(&start_mu_);
    stopping_ = true;
  }
  // Stops the workers and informers; a start still waiting for the caches returns Cancelled.
  manager_->Stop();
  {
    std::thread to_join;
    {
      absl::MutexLock guard(&start_mu_);
      to_join = std::move(starter_);
    }
    if (to_join.joinable()) to_join.join();
  }
  if (elector_) {
    elector_->Stop();
    election_.join();
  }
  events_->Flush();
  // The sink's destructor discards what is still buffered, and no other process re-sends a
  // finished job's events: a leader deleted while its sink waited out a reconnect backoff (the
  // metrics Service had no ready endpoint yet) lost those jobs from the counters for good. The
  // workers are stopped, so nothing more is sent; deliver the rest within the grace period.
  if (sink_ && !sink_->Flush(absl::Seconds(5))) {
    LOG(WARNING) << "metrics sink: events still buffered at exit were not delivered";
  }
  for (auto& server : servers_) server->Shutdown(absl::Seconds(2));
}

int ReconcilerProcess::Run() {
  // Before any thread starts, so that every thread shares the few arenas.
  if (FLAGS_malloc_arenas > 0) mallopt(M_ARENA_MAX, FLAGS_malloc_arenas);
  if (absl::Status s = Connect(); !s.ok()) return StartUpError(s);
  if (absl::Status s = BuildDeps(); !s.ok()) return StartUpError(s);
  if (absl::Status s = ConnectMetricsSink(); !s.ok()) return StartUpError(s);
  ManagerOptions options;
  options.namespace_name = FLAGS_namespace;
  options.workers = std::max(1, FLAGS_max_concurrent_reconciles);
  if (!absl::ParseDuration(FLAGS_owned_event_batch_period, &options.owned_event_batch) ||
      options.owned_event_batch < absl::ZeroDuration()) {
    return StartUpError(absl::InvalidArgumentError(absl::StrCat(
        "--owned-event-batch-period: not a duration: ", FLAGS_owned_event_batch_period)));
  }
  (workloads_->discover ? options.discover_kinds : options.kinds) = workloads_->kinds;
  manager_ = std::make_unique<ControllerManager>(*client_, deps_, options, *registry_);
  snapshot_source_.store(manager_.get(), std::memory_order_release);
  leading_ = !FLAGS_leader_elect;
  ServeHttp();
  if (FLAGS_leader_elect) {
    if (absl::Status s = StartLeaderElection(); !s.ok()) return StartUpError(s);
  } else {
    StartInBackground();
  }
  const int signal = common::WaitForShutdownSignal();
  LOG(INFO) << "signal " << signal << ", shutting down";
  Shutdown();
  return 0;
}

}  // namespace
}  // namespace kubedl::reconciler

int main(int argc, char** argv) {
  kubedl::common::BlockShutdownSignals();
  kubedl::common::InitService(&argc, &argv, "KubeDL job reconciler (docs/reconciler.md)");
  kubedl::reconciler::ReconcilerProcess process;
  return process.Run();
}
