#pragma once
// Templates shared by the PodSchema unit and integration tests (kPoison also by the reconciler's
// odd-jobs integration test), and how those tests validate a job.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kubedl/api/defaults.h"
#include "kubedl/api/job_codec.h"
#include "kubedl/api/json.h"
#include "kubedl/api/pod_schema.h"
#include "kubedl/api/validation.h"

namespace kubedl::api::testing {

// The job of issue 13: a containerPort written as a string. The API server refuses its pods;
// the webhook must refuse the job, naming
// spec.tfReplicaSpecs[Worker].template.spec.containers[0].ports[0].containerPort.
inline constexpr char kPoison[] = R"(
apiVersion: kubeflow.org/v1
kind: TFJob
metadata: {name: poison}
spec:
  tfReplicaSpecs:
    Worker:
      replicas: 1
      template:
        spec:
          containers:
          - {name: tensorflow, image: busybox, ports: [{name: tfjob-port, containerPort: "2222"}]}
)";

// A valid template using many fields (quantities as numbers and strings, int-or-string ports,
// enums, an empty enum value, an unknown field, fields the reconciler overwrites).
inline constexpr char kComplexTemplate[] = R"(
metadata:
  name: ignored
  creationTimestamp: null
  labels: {app: train, tier: "1"}
  annotations: {note: "x"}
spec:
  restartPolicy: ExitCode
  nodeSelector: {gpu: "true"}
  hostNetwork: false
  serviceAccountName: trainer
  terminationGracePeriodSeconds: 30
  priority: 10
  tolerations:
  - {key: gpu, operator: Exists, effect: NoSchedule}
  - {key: x, operator: Equal, value: v, effect: ""}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: zone, operator: In, values: [a, b]}]
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector: {matchLabels: {app: train}}
  initContainers:
  - {name: init, image: busybox, command: [sh, -c, "true"]}
  containers:
  - name: tensorflow
    image: tf:2
    imagePullPolicy: IfNotPresent
    command: [python, train.py]
    args: ["--steps", "10"]
    workingDir: /work
    ports:
    - {name: tfjob-port, containerPort: 2222, protocol: TCP}
    - {containerPort: 6006, hostPort: 16006}
    env:
    - {name: A, value: "1"}
    - name: POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: MEM
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
    - name: S
      valueFrom: {secretKeyRef: {name: s, key: k}}
    envFrom:
    - configMapRef: {name: cm}
    resources:
      limits: {cpu: 2, memory: 4Gi, nvidia.com/gpu: 1}
      requests: {cpu: 500m, memory: "1.5Gi", ephemeral-storage: 1e9}
    volumeMounts:
    - {name: data, mountPath: /data, readOnly: true}
    - {name: shm, mountPath: /dev/shm}
    livenessProbe:
      httpGet: {path: /healthz, port: 8080, httpHeaders: [{name: X-A}]}
      initialDelaySeconds: 5
    readinessProbe:
      tcpSocket: {port: tfjob-port}
    securityContext:
      runAsUser: 1000
      capabilities: {add: [SYS_PTRACE]}
    unknownField: {anything: [1, 2]}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
  - name: shm
    emptyDir: {medium: Memory, sizeLimit: 1Gi}
  - name: cfg
    configMap: {name: cfg, items: [{key: a, path: a.txt}], defaultMode: 420}
)";

// ValidateJob on the defaulted job (what the webhook does), every message as a string.
inline std::vector<std::string> Validate(const Json& object, const PodSchema* schema = nullptr) {
  auto job = ParseJob(object);
  EXPECT_TRUE(job.ok()) << job.status();
  if (!job.ok()) return {"not a job"};
  DefaultJob(*job);
  std::vector<std::string> out;
  for (const FieldError& e : ValidateJob(*job, nullptr, {.pod_schema = schema})) {
    out.push_back(e.ToString());
  }
  return out;
}

}  // namespace kubedl::api::testing
