"""Writes a realistic TFJob AdmissionReview: 1 PS, 4 workers, resources, env, volumes, probes,
metadata as the API server sends it (managedFields included). About 6 KB.
make_body.py PATH [KEYS]: KEYS more annotations on the job (the cost of objects with many keys)."""
import json, sys

def template(role):
    return {"metadata": {"labels": {"app": "mnist", "role": role}, "annotations": {"sidecar.istio.io/inject": "false"}},
            "spec": {"containers": [{"name": "tensorflow", "image": "registry.local/ml/tf-mnist:2.15.0",
                "command": ["python", "/opt/train.py"], "args": ["--epochs=20", "--batch-size=256", "--data=/data/mnist"],
                "env": [{"name": "TF_CPP_MIN_LOG_LEVEL", "value": "2"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "shm", "mountPath": "/dev/shm"}],
                "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 10}},
                {"name": "log-shipper", "image": "registry.local/ops/fluent-bit:2.2", "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}}],
             "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "mnist-data"}}, {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}}],
             "nodeSelector": {"accelerator": "nvidia-a100"}, "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}}

job = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob",
       "metadata": {"name": "mnist-train", "namespace": "team-a", "uid": "1f0f0f0f-aaaa-bbbb-cccc-0123456789ab",
                    "labels": {"team": "a", "project": "mnist"}, "annotations": {"owner": "alice@example.com"},
                    "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "kubeflow.org/v1",
                                       "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:team": {}}}}}]},
       "spec": {"runPolicy": {"cleanPodPolicy": "Running", "backoffLimit": 3, "schedulingPolicy": {"queue": "gpu", "minAvailable": 5}},
                "tfReplicaSpecs": {"PS": {"replicas": 1, "template": template("ps")}, "Worker": {"replicas": 4, "template": template("worker")}}}}
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
          "request": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "kind": {"group": "kubeflow.org", "version": "v1", "kind": "TFJob"},
                      "resource": {"group": "kubeflow.org", "version": "v1", "resource": "tfjobs"}, "name": "mnist-train", "namespace": "team-a",
                      "operation": "CREATE", "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
                      "object": job, "oldObject": None, "dryRun": False, "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}
if len(sys.argv) > 2:
    job["metadata"]["annotations"].update({f"example.com/key-{i}": str(i) for i in range(int(sys.argv[2]))})
json.dump(review, open(sys.argv[1], "w"))
