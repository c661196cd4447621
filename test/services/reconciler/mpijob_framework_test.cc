// MPIJob's plug-in against the worked examples of SPEC §10 (reference file
// kubeflow-mpi-paddle-jax.md §1): every extra object and every operator addition byte-equal.
#include "core/framework.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "job_fixtures.h"

namespace kubedl::reconciler::testing {
namespace {

const Framework& Mpi() { return FrameworkFor(api::JobKind::kMPIJob); }

std::string Container(const std::string& fields) {
  return R"({"name":"mpi","image":"horovod/horovod:0.28.1")" + fields + "}";
}

// The reference's tensorflow-mnist job: a launcher and `workers` workers, `extra_spec` spec
// fields (each with its trailing comma), `launcher_fields` added to the launcher's container.
api::Job MnistJob(int workers = 2, const std::string& extra_spec = "",
                  const std::string& launcher_fields = "", const std::string& launcher_pod = "") {
  const std::string launcher = Container(
      R"(,"command":["mpirun"],"args":["-np","2"],"resources":{"limits":{"cpu":1,"memory":"2Gi"}})" +
      launcher_fields);
  return ParsedJob(
      R"({"apiVersion":"kubeflow.org/v1","kind":"MPIJob",)"
      R"("metadata":{"name":"tensorflow-mnist","namespace":"default","uid":"u1"},"spec":{)" +
      extra_spec + R"("slotsPerWorker":1,"runPolicy":{"cleanPodPolicy":"Running"},)"
      R"("mpiReplicaSpecs":{"Launcher":{"replicas":1,"template":{"spec":{)" + launcher_pod +
      R"("containers":[)" + launcher + R"(]}}},"Worker":{"replicas":)" + std::to_string(workers) +
      R"(,"template":{"spec":{"containers":[)" +
      Container(R"(,"resources":{"limits":{"cpu":2,"memory":"4Gi"}})") + "]}}}}}}");
}

const std::string kGpuLimit = R"(,"resources":{"limits":{"nvidia.com/gpu":1}})";

ReplicaStates States(int64_t workers, int64_t running_workers, PodOutcome launcher) {
  ReplicaStates states;
  ReplicaState& l = states["Launcher"];
  l.replicas = 1;
  l.by_index = {launcher};
  l.active = launcher == PodOutcome::kRunning;
  l.succeeded = launcher == PodOutcome::kSucceeded;
  ReplicaState& w = states["Worker"];
  w.replicas = workers;
  for (int64_t i = 0; i < workers; ++i) {
    w.by_index.push_back(i < running_workers ? PodOutcome::kRunning : PodOutcome::kPending);
  }
  w.active = running_workers;
  return states;
}

// The wanted object of `kind` ("ConfigMap").
api::Json Desired(const api::Job& job, const ReplicaStates& states, const std::string& kind) {
  for (const OwnedObject& o : Mpi().DesiredObjects(job, states, FrameworkOptions{})) {
    if (o.body.value("kind", "") == kind) return o.body;
  }
  ADD_FAILURE() << "no " << kind;
  return {};
}

api::Json ConfigData(const api::Job& job, const ReplicaStates& states) {
  return Desired(job, states, "ConfigMap")["data"];
}

api::Json Decorated(const api::Job& job, const std::string& type) {
  api::Json pod = PodFor(job, type);
  FrameworkOptions options{.mpi_kubectl_delivery_image = "delivery:test"};
  EXPECT_TRUE(Mpi().DecoratePod(job, type, 0, options, pod).ok());
  return pod;
}

const char kKubexec[] =
    "#!/bin/sh\nset -x\nPOD_NAME=$1\nshift\n/opt/kube/kubectl exec ${POD_NAME} -- /bin/sh -c \"$*\"";

TEST(MpiFramework, ConfigMapHoldsTheHostfileKubexecAndTheRunningWorkers) {
  const api::Job job = MnistJob();
  api::Json data = ConfigData(job, States(2, 0, PodOutcome::kPending));
  EXPECT_EQ(data["hostfile"], "tensorflow-mnist-worker-0 slots=1\ntensorflow-mnist-worker-1 slots=1\n");
  EXPECT_EQ(data["kubexec.sh"], kKubexec);
  EXPECT_EQ(data["discover_hosts.sh"], "#!/bin/sh");
  data = ConfigData(job, States(2, 2, PodOutcome::kRunning));
  EXPECT_EQ(data["discover_hosts.sh"],
            "#!/bin/sh\necho tensorflow-mnist-worker-0:1\necho tensorflow-mnist-worker-1:1");
  const api::Json config = Desired(job, States(2, 2, PodOutcome::kRunning), "ConfigMap");
  EXPECT_EQ(config["metadata"]["name"], "tensorflow-mnist-config");
  EXPECT_EQ(config["metadata"]["labels"], api::Json({{"app", "tensorflow-mnist"}}));
}

TEST(MpiFramework, MainContainerIsNamedInKubexec) {
  const api::Job job = MnistJob(2, R"("mainContainer":"mpi",)");
  EXPECT_EQ(ConfigData(job, States(2, 0, PodOutcome::kPending))["kubexec.sh"],
            "#!/bin/sh\nset -x\nPOD_NAME=$1\nshift\n/opt/kube/kubectl exec ${POD_NAME} "
            "--container mpi -- /bin/sh -c \"$*\"");
}

TEST(MpiFramework, SlotsPerWorkerGoIntoHostfileAndDiscoverHosts) {
  api::Job job = MnistJob();
  job.spec.slots_per_worker = 4;
  const api::Json data = ConfigData(job, States(2, 1, PodOutcome::kRunning));
  EXPECT_EQ(data["hostfile"], "tensorflow-mnist-worker-0 slots=4\ntensorflow-mnist-worker-1 slots=4\n");
  EXPECT_EQ(data["discover_hosts.sh"], "#!/bin/sh\necho tensorflow-mnist-worker-0:4");
}

TEST(MpiFramework, AGpuLauncherIsAHostFirstWithTheReferencesBlankLine) {
  const api::Job job = MnistJob(2, "", kGpuLimit);
  const api::Json data = ConfigData(job, States(2, 2, PodOutcome::kRunning));
  EXPECT_EQ(data["hostfile"],
            "tensorflow-mnist-launcher slots=1\ntensorflow-mnist-worker-0 slots=1\n"
            "tensorflow-mnist-worker-1 slots=1\n");
  EXPECT_EQ(data["discover_hosts.sh"],
            "#!/bin/sh\necho tensorflow-mnist-launcher:1\n\necho tensorflow-mnist-worker-0:1"
            "\necho tensorflow-mnist-worker-1:1");
  const api::Json launcher = Decorated(job, "Launcher");
  const api::Json& mpi = launcher["spec"]["containers"][0];
  EXPECT_EQ(Env(mpi, "NVIDIA_VISIBLE_DEVICES"), "<unset>");
  EXPECT_EQ(Env(mpi, "NVIDIA_DRIVER_CAPABILITIES"), "<unset>");
}

TEST(MpiFramework, TwelveWorkersAreInIndexOrderInTheHostfileAndNameOrderInDiscoverHosts) {
  const api::Job job = MnistJob(12);
  const api::Json data = ConfigData(job, States(12, 12, PodOutcome::kRunning));
  const std::string hostfile = data["hostfile"];
  EXPECT_LT(hostfile.find("worker-1 "), hostfile.find("worker-2 "));
  EXPECT_LT(hostfile.find("worker-9 "), hostfile.find("worker-10 "));
  const std::string discover = data["discover_hosts.sh"];
  EXPECT_TRUE(discover.starts_with(
      "#!/bin/sh\necho tensorflow-mnist-worker-0:1\necho tensorflow-mnist-worker-1:1\n"
      "echo tensorflow-mnist-worker-10:1\n"))
      << discover;
  EXPECT_LT(discover.find("worker-11:1"), discover.find("worker-2:1"));
}

TEST(MpiFramework, RoleGrantsExecOnlyOnTheWorkersAndBindsTheLauncherAccount) {
  const api::Job job = MnistJob();
  const api::Json role = Desired(job, States(2, 0, PodOutcome::kPending), "Role");
  EXPECT_EQ(role["metadata"]["name"], "tensorflow-mnist-launcher");
  EXPECT_EQ(role["rules"], api::Json::parse(R"([
    {"apiGroups":[""],"resources":["pods"],"verbs":["get","list","watch"]},
    {"apiGroups":[""],"resources":["pods/exec"],"verbs":["create"],
     "resourceNames":["tensorflow-mnist-worker-0","tensorflow-mnist-worker-1"]}])"));
  const api::Json binding = Desired(job, States(2, 0, PodOutcome::kPending), "RoleBinding");
  EXPECT_EQ(binding["subjects"], api::Json::parse(
      R"([{"kind":"ServiceAccount","name":"tensorflow-mnist-launcher","namespace":"default"}])"));
  EXPECT_EQ(binding["roleRef"], api::Json::parse(
      R"({"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"tensorflow-mnist-launcher"})"));
  const api::Json account = Desired(job, States(2, 0, PodOutcome::kPending), "ServiceAccount");
  EXPECT_EQ(account["metadata"]["name"], "tensorflow-mnist-launcher");
  EXPECT_EQ(account["metadata"]["labels"]["app"], "tensorflow-mnist");
}

TEST(MpiFramework, WithoutWorkersTheExecRuleIsLeftOutAndTheHostfileIsEmpty) {
  const api::Job job = MnistJob(0);
  const api::Json role = Desired(job, States(0, 0, PodOutcome::kPending), "Role");
  ASSERT_EQ(role["rules"].size(), 1u);
  EXPECT_EQ(role["rules"][0]["resources"], api::Json({"pods"}));
  EXPECT_EQ(ConfigData(job, States(0, 0, PodOutcome::kPending))["hostfile"], "");
}

TEST(MpiFramework, ATemplateServiceAccountIsUsedAsItIsAndBound) {
  const api::Job job = MnistJob(2, "", "", R"("serviceAccountName":"trainer",)");
  bool found = false;
  for (const OwnedObject& o : Mpi().DesiredObjects(job, States(2, 0, PodOutcome::kPending), {})) {
    if (o.body["kind"] != "ServiceAccount") continue;
    found = true;
    EXPECT_EQ(o.body["metadata"]["name"], "trainer");
    EXPECT_TRUE(o.use_existing);
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(Desired(job, States(2, 0, PodOutcome::kPending), "RoleBinding")["subjects"][0]["name"],
            "trainer");
  EXPECT_EQ(Desired(job, States(2, 0, PodOutcome::kPending), "Role")["metadata"]["name"],
            "tensorflow-mnist-launcher");
  EXPECT_EQ(Decorated(job, "Launcher")["spec"]["serviceAccountName"], "trainer");
}

TEST(MpiFramework, LauncherGetsTheDeliveryInitContainerVolumesAndEnvInOrder) {
  const api::Job job = MnistJob();
  const api::Json pod = Decorated(job, "Launcher");
  const api::Json& spec = pod["spec"];
  EXPECT_EQ(spec["serviceAccountName"], "tensorflow-mnist-launcher");
  const std::string script =
      "cp /bin/kubectl /opt/kube/kubectl && for h in tensorflow-mnist-worker-0 "
      "tensorflow-mnist-worker-1; do until [ \"$(/opt/kube/kubectl get pod $h -n $NAMESPACE -o "
      "jsonpath='{.status.phase}')\" = Running ]; do sleep 2; done; done";
  EXPECT_EQ(spec["initContainers"], api::Json::parse(R"([{"name":"kubectl-delivery",
    "image":"delivery:test","imagePullPolicy":"IfNotPresent","command":["/bin/sh","-c",)" +
    api::Json(script).dump() + R"(],
    "env":[{"name":"TARGET_DIR","value":"/opt/kube"},{"name":"NAMESPACE","value":"default"}],
    "resources":{"limits":{"cpu":"100m","memory":"512Mi","ephemeral-storage":"5Gi"},
                 "requests":{"cpu":"100m","memory":"512Mi","ephemeral-storage":"5Gi"}},
    "volumeMounts":[{"name":"mpi-job-kubectl","mountPath":"/opt/kube"},
                    {"name":"mpi-job-config","mountPath":"/etc/mpi"}]}])"));
  EXPECT_EQ(spec["volumes"], api::Json::parse(R"([{"name":"mpi-job-kubectl","emptyDir":{}},
    {"name":"mpi-job-config","configMap":{"name":"tensorflow-mnist-config","items":[
      {"key":"kubexec.sh","path":"kubexec.sh","mode":365},
      {"key":"hostfile","path":"hostfile","mode":292},
      {"key":"discover_hosts.sh","path":"discover_hosts.sh","mode":365}]}}])"));
  const api::Json& mpi = spec["containers"][0];
  EXPECT_EQ(mpi["env"], api::Json::parse(R"([
    {"name":"OMPI_MCA_plm_rsh_agent","value":"/etc/mpi/kubexec.sh"},
    {"name":"OMPI_MCA_orte_default_hostfile","value":"/etc/mpi/hostfile"},
    {"name":"NVIDIA_VISIBLE_DEVICES","value":""},
    {"name":"NVIDIA_DRIVER_CAPABILITIES","value":""},
    {"name":"I_MPI_HYDRA_BOOTSTRAP","value":"rsh"},
    {"name":"I_MPI_HYDRA_BOOTSTRAP_EXEC","value":"/etc/mpi/kubexec.sh"}])"));
  EXPECT_EQ(mpi["volumeMounts"], api::Json::parse(R"([
    {"name":"mpi-job-kubectl","mountPath":"/opt/kube"},{"name":"mpi-job-config","mountPath":"/etc/mpi"}])"));
  EXPECT_EQ(mpi["command"], api::Json({"mpirun"}));
}

TEST(MpiFramework, TemplateIntelMpiEnvIsKeptAndOnlyTheOtherOneAppended) {
  const api::Job job = MnistJob(2, "", R"(,"env":[{"name":"I_MPI_HYDRA_BOOTSTRAP","value":"RSH"}])");
  const api::Json launcher = Decorated(job, "Launcher");
  const api::Json& mpi = launcher["spec"]["containers"][0];
  EXPECT_EQ(Env(mpi, "I_MPI_HYDRA_BOOTSTRAP"), "RSH");
  EXPECT_EQ(Env(mpi, "I_MPI_HYDRA_BOOTSTRAP_EXEC"), "/etc/mpi/kubexec.sh");
  EXPECT_EQ(mpi["env"][0]["value"], "RSH");
}

TEST(MpiFramework, WithoutWorkersTheLauncherOnlyCopiesKubectl) {
  const api::Job job = MnistJob(0);
  EXPECT_EQ(Decorated(job, "Launcher")["spec"]["initContainers"][0]["command"][2],
            "cp /bin/kubectl /opt/kube/kubectl");
}

TEST(MpiFramework, AWorkerWithoutCommandSleepsAndMountsOnlyKubexec) {
  const api::Job job = MnistJob();
  const api::Json pod = Decorated(job, "Worker");
  const api::Json& mpi = pod["spec"]["containers"][0];
  EXPECT_EQ(mpi["command"], api::Json({"sleep"}));
  EXPECT_EQ(mpi["args"], api::Json({"365d"}));
  EXPECT_FALSE(mpi.contains("env"));
  EXPECT_EQ(mpi["volumeMounts"], api::Json::parse(R"([{"name":"mpi-job-config","mountPath":"/etc/mpi"}])"));
  EXPECT_EQ(pod["spec"]["volumes"], api::Json::parse(R"([{"name":"mpi-job-config","configMap":{
    "name":"tensorflow-mnist-config","items":[{"key":"kubexec.sh","path":"kubexec.sh","mode":365}]}}])"));
  EXPECT_FALSE(pod["spec"].contains("initContainers"));
}

TEST(MpiFramework, MainContainerIsTheOneMountedNotTheFirst) {
  api::Job job = MnistJob(1, R"("mainContainer":"mpi",)");
  api::Replica* worker = const_cast<api::Replica*>(job.FindReplica("Worker"));
  api::Json& containers = worker->spec.template_spec["spec"]["containers"];
  containers.insert(containers.begin(), api::Json::parse(
      R"({"name":"sidecar","image":"s","command":["tail","-f","/dev/null"]})"));
  const api::Json pod = Decorated(job, "Worker");
  EXPECT_FALSE(pod["spec"]["containers"][0].contains("volumeMounts"));
  EXPECT_EQ(pod["spec"]["containers"][1]["command"], api::Json({"sleep"}));
}

TEST(MpiFramework, RunsWhenTheLauncherAndEveryWorkerRunAndSucceedsWithTheLauncher) {
  const api::Job job = MnistJob();
  EXPECT_EQ(Mpi().Progress(job, States(2, 1, PodOutcome::kRunning)), JobProgress::kNotRunning);
  EXPECT_EQ(Mpi().Progress(job, States(2, 2, PodOutcome::kPending)), JobProgress::kNotRunning);
  EXPECT_EQ(Mpi().Progress(job, States(2, 2, PodOutcome::kRunning)), JobProgress::kRunning);
  EXPECT_EQ(Mpi().Progress(job, States(2, 0, PodOutcome::kSucceeded)), JobProgress::kSucceeded);
}

TEST(MpiFramework, TheLauncherIsTheMasterAndNoPodGetsAService) {
  const api::Job job = MnistJob();
  EXPECT_TRUE(Mpi().IsMaster(job, "Launcher", 0));
  EXPECT_FALSE(Mpi().IsMaster(job, "Worker", 0));
  EXPECT_FALSE(Mpi().HeadlessServices());
  std::vector<std::string> resources;
  for (const kube::ResourceRef& r : Mpi().OwnedResources()) resources.push_back(r.resource);
  EXPECT_EQ(resources, (std::vector<std::string>{"serviceaccounts", "configmaps", "roles",
                                                 "rolebindings"}));
}

}  // namespace
}  // namespace kubedl::reconciler::testing
