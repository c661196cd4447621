// The kubedl-gang-scheduler process itself: start-up errors, TLS on the gRPC port, the gRPC
// health service, and /healthz, /readyz, /metrics on the health port.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/testing/cluster.h"
#include "services/reconciler/gang/grpc_gang_client.h"
#include "test/integration/gang/gang_scheduler_process.h"

namespace kubedl::gang {
namespace {

using ::testing::HasSubstr;

// The binary this build made (CMake passes its path).
std::string BinaryPath() { return KUBEDL_GANG_SCHEDULER_BINARY; }
std::string RepoDir() {
  const char* repo = std::getenv("KUBEDL_REPO");
  return repo ? repo : ".";
}

// Runs a command; its exit code and what it wrote to stdout and stderr.
std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

class GangSchedulerProcessTest : public kubedl::testing::ClusterTest {
 protected:
  std::string NamespacePrefix() const override { return "gang-proc"; }

  api::Job CreateTfJob(const std::string& name) {
    kube::Object manifest = {
        {"apiVersion", "kubeflow.org/v1"},
        {"kind", "TFJob"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"tfReplicaSpecs",
           {{"Worker",
             {{"replicas", 2},
              {"template",
               {{"spec", {{"containers", kube::Object::array({{{"name", "tensorflow"},
                                                               {"image", "busybox"}}})}}}}}}}}}}}};
    absl::StatusOr<kube::Object> created =
        client().Create({"kubeflow.org", "v1", "tfjobs", true}, ns(), manifest);
    EXPECT_TRUE(created.ok()) << created.status();
    absl::StatusOr<api::Job> job = api::ParseJob(api::Json::parse(created->dump()));
    EXPECT_TRUE(job.ok()) << job.status();
    return *job;
  }
};

TEST(GangSchedulerStartUp, AnUnknownBackendStopsTheProcessListingTheValidOnes) {
  auto [code, output] = RunCommand(BinaryPath() + " --backend=yunikorn --health-port=0");
  EXPECT_EQ(code, 2);
  EXPECT_THAT(output, HasSubstr("unknown gang scheduler backend \"yunikorn\"; valid backends: "
                                "volcano, scheduler-plugins, kube-batch"));
}

TEST(GangSchedulerStartUp, HalfATlsPairIsRefused) {
  auto [code, output] = RunCommand(BinaryPath() + " --tls-cert-file=/tmp/x.crt --health-port=0");
  EXPECT_EQ(code, 2);
  EXPECT_THAT(output, HasSubstr("--tls-cert-file and --tls-key-file go together"));
}

TEST_F(GangSchedulerProcessTest, WithTlsTheReconcilersClientTrustingTheCaIsServedAndPlainIsNot) {
  const std::string dir = ::testing::TempDir() + kubedl::testing::RandomName("gang-tls");
  const std::string gen = RepoDir() + "/tools/certs/gen.sh";
  ASSERT_EQ(RunCommand(absl::StrCat("bash ", gen, " ca ", dir, " ca")).first, 0);
  ASSERT_EQ(RunCommand(absl::StrCat("bash ", gen, " server ", dir, " server ", dir, "/ca 127.0.0.1"))
                .first,
            0);
  testing::GangSchedulerProcess process(
      BinaryPath(), "volcano",
      {"--tls-cert-file=" + dir + "/server.crt", "--tls-key-file=" + dir + "/server.key"});
  ASSERT_TRUE(process.Start());

  api::Job job = CreateTfJob("secure");
  std::unique_ptr<reconciler::GangClient> trusting =
      reconciler::NewGrpcGangClient(process.address(), dir + "/ca.crt");
  absl::StatusOr<reconciler::GangState> state = trusting->EnsureGang(job);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->admission, reconciler::GangAdmission::kPending);

  std::unique_ptr<reconciler::GangClient> plain = reconciler::NewGrpcGangClient(process.address());
  EXPECT_EQ(plain->GetGang(job).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(GangSchedulerProcessTest, HealthServiceAndHttpEndpointsReportTheService) {
  testing::GangSchedulerProcess process(BinaryPath(), "kube-batch");
  ASSERT_TRUE(process.Start());

  // grpc.health.v1.Health/Check {service: "kubedl.v1.GangScheduler"}, encoded by hand: field 1,
  // length-delimited. The answer {status: SERVING} is field 1, varint 1.
  const std::string service = "kubedl.v1.GangScheduler";
  const std::string request_bytes = std::string("\x0a", 1) +
                                    static_cast<char>(service.size()) + service;
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub stub(grpc::CreateChannel(process.address(),
                                             grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string answer;
  for (const grpc::Slice& s : slices) answer += std::string(s.begin(), s.end());
  EXPECT_EQ(answer, std::string("\x08\x01", 2)) << "SERVING";

  // One call so the request metrics have a series.
  api::Job job = CreateTfJob("measured");
  std::unique_ptr<reconciler::GangClient> gangs = reconciler::NewGrpcGangClient(process.address());
  ASSERT_TRUE(gangs->EnsureGang(job).ok());

  EXPECT_EQ(testing::HttpGet(process.health_port(), "/healthz").status, 200);
  EXPECT_EQ(testing::HttpGet(process.health_port(), "/readyz").status, 200);
  testing::HttpAnswer metrics = testing::HttpGet(process.health_port(), "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("grpc_server_handled_total{code=\"OK\",method=\"/kubedl.v1."
                                      "GangScheduler/EnsureGang\"} 1"));
  EXPECT_THAT(metrics.body, HasSubstr("grpc_server_handling_seconds_count{method=\"/kubedl.v1."
                                      "GangScheduler/EnsureGang\"} 1"));
  EXPECT_THAT(metrics.body, HasSubstr("process_resident_memory_bytes"));
}

}  // namespace
}  // namespace kubedl::gang
