// Mutual TLS between the reconciler and the gang-scheduler and metrics services, with real
// processes, real gRPC and the certificates the Helm chart generates (rendered by `helm template`
// and read back from its Secrets): a caller without a client certificate, or with one from
// another CA, is refused; the reconciler's certificate from the chart is served; the services
// refuse to start without TLS unless plaintext is asked for by name; reflection is off unless
// asked for; a client certificate renewed on disk is presented without rebuilding the
// credentials.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "kubedl/common/grpc_channel_credentials.h"
#include "kubedl/testing/service_process.h"
#include "kubedl/v1/metrics.grpc.pb.h"
#include "test/integration/gang/gang_scheduler_process.h"

namespace kubedl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The names the chart's certificates carry (chart_certificates.sh renders release "kt" in
// namespace "kubedl-system").
constexpr char kGangServiceName[] = "kt-kubedl-gang-scheduler.kubedl-system.svc";
constexpr char kMetricsServiceName[] = "kt-kubedl-metrics.kubedl-system.svc";

std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Replaces `path` the way a kubelet updates a mounted Secret: a new file renamed over the old.
void ReplaceFile(const std::string& path, const std::string& contents) {
  const std::string next = path + ".next";
  std::ofstream(next) << contents;
  std::filesystem::rename(next, path);
}

// The chart's certificates, rendered once for the suite, and a CA of nobody's (tools/certs).
class Certificates {
 public:
  static const Certificates& Get() {
    static const Certificates* certificates = new Certificates();
    return *certificates;
  }
  // <dir>/<identity>/{tls.crt,tls.key,ca.crt}; identity: gang-scheduler, metrics, reconciler.
  std::string File(const std::string& identity, const std::string& name) const {
    return absl::StrCat(dir_, "/", identity, "/", name);
  }
  // A client certificate from a CA the chart did not make, same name as the reconciler's.
  std::string StrangerCert() const { return dir_ + "/stranger/client.crt"; }
  std::string StrangerKey() const { return dir_ + "/stranger/client.key"; }
  const std::string& error() const { return error_; }

 private:
  Certificates() : dir_(::testing::TempDir() + "mtls-" + std::to_string(getpid())) {
    auto [code, output] =
        RunCommand(absl::StrCat("bash ", KUBEDL_MTLS_CHART_CERTIFICATES, " ", KUBEDL_CHART_DIR,
                                " ", dir_));
    if (code != 0) {
      error_ = "cannot render the chart's certificates: " + output;
      return;
    }
    const std::string gen = absl::StrCat("bash ", KUBEDL_REPO_DIR, "/tools/certs/gen.sh ");
    for (const std::string& step :
         {gen + "ca " + dir_ + "/stranger ca",
          gen + "client " + dir_ + "/stranger client " + dir_ + "/stranger/ca kubedl-reconciler"}) {
      auto [step_code, step_output] = RunCommand(step);
      if (step_code != 0) error_ = step + ": " + step_output;
    }
  }
  std::string dir_;
  std::string error_;
};

// A kubeconfig naming an API server nobody runs, for a gang scheduler whose gRPC handshake is
// all a test looks at (the health service answers without the API server). The real one when
// the suite runs against the local control plane.
std::string Kubeconfig() {
  if (const char* kubeconfig = std::getenv("KUBECONFIG")) return kubeconfig;
  const std::string path = ::testing::TempDir() + "mtls-kubeconfig-" + std::to_string(getpid());
  std::ofstream(path) << "apiVersion: v1\nkind: Config\n"
                         "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:"
                      << testing::FreeLoopbackPort()
                      << "', insecure-skip-tls-verify: true}}]\n"
                         "users: [{name: none, user: {token: none}}]\n"
                         "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
                         "current-context: none\n";
  return path;
}

// grpc.health.v1.Health/Check {service: ""}: the empty request is zero bytes, SERVING is
// "\x08\x01". Fails fast (no wait for ready): a refused handshake is UNAVAILABLE at once.
grpc::Status CheckHealth(grpc::Channel& channel, std::string* answer = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1), response;
  const grpc::internal::RpcMethod check("/grpc.health.v1.Health/Check",
                                        grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Status status =
      grpc::internal::BlockingUnaryCall(&channel, check, &context, request, &response);
  std::vector<grpc::Slice> slices;
  if (answer != nullptr && status.ok() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& slice : slices) answer->append(slice.begin(), slice.end());
  }
  return status;
}

// A channel to 127.0.0.1:<port> that verifies the server's certificate names `server_name`
// (the Service DNS name the chart put in its SANs), with the credentials the reconciler uses.
std::shared_ptr<grpc::Channel> Channel(int port, const std::string& server_name,
                                       std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments arguments;
  arguments.SetSslTargetNameOverride(server_name);
  // Reconnect quickly after a refused handshake (a test of renewed files waits for it). Not
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: it is also the connect timeout, too short for a TLS
  // handshake on a busy machine.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), credentials, arguments);
}

std::shared_ptr<grpc::Channel> Channel(int port, const std::string& server_name,
                                       const common::GrpcChannelTls& tls) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      common::GrpcChannelCredentials(tls);
  EXPECT_TRUE(credentials.ok()) << credentials.status();
  if (!credentials.ok()) return nullptr;
  return Channel(port, server_name, *credentials);
}

common::GrpcChannelTls ReconcilerTls() {
  const Certificates& c = Certificates::Get();
  return {.ca_file = c.File("reconciler", "ca.crt"),
          .cert_file = c.File("reconciler", "tls.crt"),
          .key_file = c.File("reconciler", "tls.key")};
}

std::vector<std::string> ServerTlsFlags(const std::string& identity) {
  const Certificates& c = Certificates::Get();
  return {"--tls-cert-file=" + c.File(identity, "tls.crt"),
          "--tls-key-file=" + c.File(identity, "tls.key"),
          "--tls-client-ca-file=" + c.File(identity, "ca.crt")};
}

class GangServiceTls : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(Certificates::Get().error(), ""); }

  // The gang scheduler as the chart runs it: the chart's serving certificate, client
  // certificates required (the chart's client CA), reflection and plaintext not asked for.
  void StartGangScheduler(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = ServerTlsFlags("gang-scheduler");
    flags.push_back("--kubeconfig=" + Kubeconfig());
    flags.push_back("--cache-pod-groups=false");
    flags.insert(flags.end(), extra.begin(), extra.end());
    gang_ = std::make_unique<gang::testing::GangSchedulerProcess>(KUBEDL_GANG_SCHEDULER_BINARY,
                                                                  "volcano", flags);
    ASSERT_TRUE(gang_->Start()) << gang_->LogTail();
  }
  int port() const { return std::stoi(gang_->address().substr(gang_->address().find(':') + 1)); }

  std::unique_ptr<gang::testing::GangSchedulerProcess> gang_;
};

TEST_F(GangServiceTls, GangServiceRefusesAClientWithoutACertificate) {
  StartGangScheduler();
  const Certificates& c = Certificates::Get();
  // TLS that trusts the server but presents no certificate.
  std::shared_ptr<grpc::Channel> anonymous =
      Channel(port(), kGangServiceName, {.ca_file = c.File("reconciler", "ca.crt")});
  EXPECT_EQ(CheckHealth(*anonymous).error_code(), grpc::StatusCode::UNAVAILABLE);
  // Plaintext gets no further.
  std::shared_ptr<grpc::Channel> plaintext =
      grpc::CreateChannel(gang_->address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(CheckHealth(*plaintext).error_code(), grpc::StatusCode::UNAVAILABLE);
  // A certificate of the right name from a CA the chart did not make is no better.
  std::shared_ptr<grpc::Channel> stranger =
      Channel(port(), kGangServiceName,
              {.ca_file = c.File("reconciler", "ca.crt"),
               .cert_file = c.StrangerCert(),
               .key_file = c.StrangerKey()});
  EXPECT_EQ(CheckHealth(*stranger).error_code(), grpc::StatusCode::UNAVAILABLE);
  // Nor is another service's certificate: the services' certificates come from the server CA,
  // which the services do not accept callers from.
  std::shared_ptr<grpc::Channel> metrics_identity =
      Channel(port(), kGangServiceName,
              {.ca_file = c.File("reconciler", "ca.crt"),
               .cert_file = c.File("metrics", "tls.crt"),
               .key_file = c.File("metrics", "tls.key")});
  EXPECT_EQ(CheckHealth(*metrics_identity).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GangServiceTls, GangServiceAcceptsTheChartsClientCertificate) {
  StartGangScheduler();
  std::shared_ptr<grpc::Channel> reconciler = Channel(port(), kGangServiceName, ReconcilerTls());
  std::string answer;
  grpc::Status status = CheckHealth(*reconciler, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer, std::string("\x08\x01", 2)) << "SERVING";
}

TEST_F(GangServiceTls, AServerCertificateNotNamingTheTargetIsRefusedByTheClient) {
  StartGangScheduler();
  // The gang scheduler's certificate, dialled as if it were the metrics service.
  std::shared_ptr<grpc::Channel> misdirected =
      Channel(port(), kMetricsServiceName, ReconcilerTls());
  EXPECT_EQ(CheckHealth(*misdirected).error_code(), grpc::StatusCode::UNAVAILABLE);
}

// ServerReflectionInfo is a bidi stream; one request and the half-close make it answer like a
// unary call. The request is {list_services: "*"} (field 7); reflection lists the services.
grpc::Status ListServicesByReflection(grpc::Channel& channel, std::string* answer) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Slice list(std::string("\x3a\x01*", 3));
  grpc::ByteBuffer request(&list, 1), response;
  const grpc::internal::RpcMethod info(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Status status =
      grpc::internal::BlockingUnaryCall(&channel, info, &context, request, &response);
  std::vector<grpc::Slice> slices;
  if (status.ok() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& slice : slices) answer->append(slice.begin(), slice.end());
  }
  return status;
}

TEST_F(GangServiceTls, ReflectionIsOffByDefault) {
  StartGangScheduler();
  std::shared_ptr<grpc::Channel> reconciler = Channel(port(), kGangServiceName, ReconcilerTls());
  std::string answer;
  EXPECT_EQ(ListServicesByReflection(*reconciler, &answer).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(answer, Not(HasSubstr("kubedl.v1.GangScheduler")));
}

TEST_F(GangServiceTls, ReflectionListsTheServiceWhenAskedFor) {
  StartGangScheduler({"--grpc-reflection"});
  std::shared_ptr<grpc::Channel> reconciler = Channel(port(), kGangServiceName, ReconcilerTls());
  std::string answer;
  grpc::Status status = ListServicesByReflection(*reconciler, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(answer, HasSubstr("kubedl.v1.GangScheduler"));
}

TEST_F(GangServiceTls, RotatedClientCertificateIsPickedUpWithoutRestart) {
  StartGangScheduler();
  const Certificates& c = Certificates::Get();
  // The client's files start as a certificate the service does not accept (the metrics
  // service's, from the server CA); then they are replaced with the reconciler's, as a kubelet
  // refreshes a Secret after `helm upgrade`. The credentials object is built once, as the
  // reconciler builds it at start-up: new channels from it present the renewed certificate, and
  // so does the channel that was refused, once it reconnects.
  const std::string dir = ::testing::TempDir() + "mtls-rotate-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(c.File("reconciler", "ca.crt"), dir + "/ca.crt",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(c.File("metrics", "tls.crt"), dir + "/tls.crt",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(c.File("metrics", "tls.key"), dir + "/tls.key",
                             std::filesystem::copy_options::overwrite_existing);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      common::GrpcChannelCredentials({.ca_file = dir + "/ca.crt",
                                      .cert_file = dir + "/tls.crt",
                                      .key_file = dir + "/tls.key",
                                      .reload_check_interval = std::chrono::seconds(1)});
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  std::shared_ptr<grpc::Channel> refused_channel = Channel(port(), kGangServiceName, *credentials);
  ASSERT_EQ(CheckHealth(*refused_channel).error_code(), grpc::StatusCode::UNAVAILABLE);

  ReplaceFile(dir + "/tls.key", ReadFile(c.File("reconciler", "tls.key")));
  ReplaceFile(dir + "/tls.crt", ReadFile(c.File("reconciler", "tls.crt")));
  grpc::Status status;
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  do {
    absl::SleepFor(absl::Milliseconds(250));
    status = CheckHealth(*Channel(port(), kGangServiceName, *credentials));
  } while (!status.ok() && absl::Now() < give_up);
  ASSERT_TRUE(status.ok()) << "the credentials never presented the renewed certificate: "
                           << status.error_message();
  // The channel refused at first is not rebuilt either: its next connection presents the
  // renewed certificate (after its reconnect backoff).
  const absl::Time until = absl::Now() + absl::Seconds(40);
  do {
    status = CheckHealth(*refused_channel);
    if (!status.ok()) absl::SleepFor(absl::Milliseconds(500));
  } while (!status.ok() && absl::Now() < until);
  EXPECT_TRUE(status.ok()) << "the first channel never reconnected with the renewed certificate: "
                           << status.error_message();
}

// kubedl-metrics as the chart runs it, on loopback ports.
class MetricsServiceTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Certificates::Get().error(), "");
    std::vector<std::string> args = {KUBEDL_METRICS_BINARY, "--listen-address=127.0.0.1",
                                     absl::StrCat("--grpc-port=", grpc_port_),
                                     absl::StrCat("--http-port=", http_port_)};
    for (std::string& flag : ServerTlsFlags("metrics")) args.push_back(std::move(flag));
    ASSERT_TRUE(metrics_.Spawn(args));
    ASSERT_TRUE(metrics_.WaitUntilReady(http_port_, absl::Seconds(20))) << metrics_.LogTail();
  }

  // One JobCreated event on a Report stream: what the service accepted, or the call's error.
  grpc::Status ReportOneEvent(grpc::Channel& channel, v1::ReportSummary* summary) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    std::unique_ptr<grpc::ClientWriter<v1::ReportRequest>> writer =
        v1::MetricsSink::NewStub(std::shared_ptr<grpc::Channel>(&channel, [](auto*) {}))
            ->Report(&context, summary);
    v1::ReportRequest request;
    v1::JobEvent& event = *request.mutable_event();
    event.mutable_job()->set_uid("6a0c1f4e-mtls-test");
    event.mutable_job()->set_kind("TFJob");
    event.mutable_job()->set_namespace_("team-a");
    event.mutable_job()->set_name("mnist");
    *event.mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
    *event.mutable_job_created() = event.time();
    event.mutable_created();
    writer->Write(request);
    writer->WritesDone();
    return writer->Finish();
  }

  const int grpc_port_ = testing::FreeLoopbackPort();
  const int http_port_ = testing::FreeLoopbackPort();
  testing::ServiceProcess metrics_;
};

TEST_F(MetricsServiceTls, MetricsServiceRefusesAClientWithoutACertificate) {
  const Certificates& c = Certificates::Get();
  std::shared_ptr<grpc::Channel> anonymous =
      Channel(grpc_port_, kMetricsServiceName, {.ca_file = c.File("reconciler", "ca.crt")});
  v1::ReportSummary summary;
  EXPECT_EQ(ReportOneEvent(*anonymous, &summary).error_code(), grpc::StatusCode::UNAVAILABLE);
  std::shared_ptr<grpc::Channel> plaintext = grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", grpc_port_), grpc::InsecureChannelCredentials());
  EXPECT_EQ(ReportOneEvent(*plaintext, &summary).error_code(), grpc::StatusCode::UNAVAILABLE);
  std::shared_ptr<grpc::Channel> gang_identity =
      Channel(grpc_port_, kMetricsServiceName,
              {.ca_file = c.File("reconciler", "ca.crt"),
               .cert_file = c.File("gang-scheduler", "tls.crt"),
               .key_file = c.File("gang-scheduler", "tls.key")});
  EXPECT_EQ(ReportOneEvent(*gang_identity, &summary).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(summary.accepted(), 0);
}

TEST_F(MetricsServiceTls, MetricsServiceAcceptsTheChartsClientCertificate) {
  std::shared_ptr<grpc::Channel> reconciler =
      Channel(grpc_port_, kMetricsServiceName, ReconcilerTls());
  v1::ReportSummary summary;
  grpc::Status status = ReportOneEvent(*reconciler, &summary);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.accepted(), 1);
  EXPECT_EQ(summary.rejected(), 0);
}

TEST(ServiceStartUp, ServerRefusesToStartWithoutTlsOrThePlaintextFlag) {
  for (const std::string& binary : {std::string(KUBEDL_GANG_SCHEDULER_BINARY),
                                    std::string(KUBEDL_METRICS_BINARY)}) {
    auto [code, output] = RunCommand(binary + " --listen-address=127.0.0.1 --grpc-port=0");
    EXPECT_EQ(code, 2) << binary << ": " << output;
    EXPECT_THAT(output, HasSubstr("--insecure-plaintext")) << binary;
  }
}

TEST(ServiceStartUp, PlaintextAskedForByNameStartsWithAWarning) {
  const int grpc_port = testing::FreeLoopbackPort();
  const int http_port = testing::FreeLoopbackPort();
  const std::string log = ::testing::TempDir() + "mtls-plaintext-" + std::to_string(getpid());
  testing::ServiceProcess metrics(log);
  ASSERT_TRUE(metrics.Spawn({KUBEDL_METRICS_BINARY, "--listen-address=127.0.0.1",
                             absl::StrCat("--grpc-port=", grpc_port),
                             absl::StrCat("--http-port=", http_port), "--insecure-plaintext",
                             "--logtostderr"}));
  ASSERT_TRUE(metrics.WaitUntilReady(http_port, absl::Seconds(20))) << metrics.LogTail();
  EXPECT_THAT(metrics.LogTail(), HasSubstr("--insecure-plaintext: gRPC without TLS"));
  std::shared_ptr<grpc::Channel> plaintext = grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", grpc_port), grpc::InsecureChannelCredentials());
  EXPECT_TRUE(CheckHealth(*plaintext).ok());
}

TEST(ReconcilerStartUp, AServiceAddressWithoutItsCaOrThePlaintextFlagIsRefused) {
  auto [code, output] = RunCommand(absl::StrCat(
      KUBEDL_RECONCILER_BINARY, " --kubeconfig=", Kubeconfig(),
      " --leader-elect=false --health-port=0 --metrics-port=0 --workloads=TFJob",
      " --metrics-sink-address=127.0.0.1:1"));
  EXPECT_EQ(code, 2) << output;
  EXPECT_THAT(output, HasSubstr("--metrics-sink-ca-file"));
  EXPECT_THAT(output, HasSubstr("--insecure-plaintext-grpc"));
}

}  // namespace
}  // namespace kubedl
