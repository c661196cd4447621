{{/* Mutual TLS of the gRPC ports (internal-tls.yaml makes the Secrets; values.yaml internalTls). */}}

{{/* Secret of one gRPC identity: (dict "root" $ "component" "gang-scheduler") */}}
{{- define "kubedl.grpcTlsSecret" -}}
{{- printf "%s-%s-grpc-tls" (include "kubedl.fullname" .root) .component -}}
{{- end -}}

{{/* The Service DNS names a service's certificate carries: (dict "root" $ "service" "<name>") */}}
{{- define "kubedl.serviceDnsNames" -}}
{{- $ns := .root.Release.Namespace -}}
{{- list .service (printf "%s.%s" .service $ns) (printf "%s.%s.svc" .service $ns) (printf "%s.%s.svc.cluster.local" .service $ns) | toJson -}}
{{- end -}}

{{/* Args, env, mounts and volume of a gRPC service's container: (dict "root" $ "component" "metrics") */}}
{{- define "kubedl.grpcServerArgs" -}}
- --listen-address=$(POD_IP)
{{- if .root.Values.internalTls.enabled }}
- --tls-cert-file=/grpc-tls/tls.crt
- --tls-key-file=/grpc-tls/tls.key
- --tls-client-ca-file=/grpc-tls/ca.crt
{{- else }}
- --insecure-plaintext
{{- end }}
{{- end -}}
{{- define "kubedl.podIpEnv" -}}
- name: POD_IP
  valueFrom: {fieldRef: {fieldPath: status.podIP}}
{{- end -}}
{{- define "kubedl.grpcTlsMount" -}}
{{- if .root.Values.internalTls.enabled }}
volumeMounts:
- {name: grpc-tls, mountPath: /grpc-tls, readOnly: true}
{{- end }}
{{- end -}}
{{/* (dict "root" $ "component" "metrics" "peer" "client"): peer is the CA that signs the other
side ("client" for a service, "server" for the reconciler). In helm mode the identity's Secret
holds that CA bundle as ca.crt; cert-manager puts the issuing CA there instead, so the peer CA's
own Secret provides ca.crt. */}}
{{- define "kubedl.grpcTlsVolume" -}}
{{- if .root.Values.internalTls.enabled }}
volumes:
- name: grpc-tls
  {{- if eq .root.Values.internalTls.mode "cert-manager" }}
  projected:
    sources:
    - secret:
        name: {{ include "kubedl.grpcTlsSecret" . }}
        items: [{key: tls.crt, path: tls.crt}, {key: tls.key, path: tls.key}]
    - secret:
        name: {{ include "kubedl.fullname" .root }}-grpc-{{ .peer }}-ca
        items: [{key: ca.crt, path: ca.crt}]
  {{- else }}
  secret: {secretName: {{ include "kubedl.grpcTlsSecret" . }}}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The reconciler's flags for its gRPC channels (root context). */}}
{{- define "kubedl.grpcClientArgs" -}}
{{- $g := .Values.gangScheduler -}}
{{- $plaintext := not .Values.internalTls.enabled -}}
{{- if .Values.internalTls.enabled }}
- --grpc-client-cert-file=/grpc-tls/tls.crt
- --grpc-client-key-file=/grpc-tls/tls.key
{{- if .Values.metrics.enabled }}
- --metrics-sink-ca-file=/grpc-tls/ca.crt
{{- end }}
{{- end }}
{{- if $g.externalAddress }}
{{- if $g.externalCaSecret }}
- --gang-scheduler-ca-file=/gang-ca/ca.crt
{{- else if $g.externalPlaintext }}
{{- $plaintext = true }}
{{- else }}
{{- fail "gangScheduler.externalAddress needs gangScheduler.externalCaSecret (a Secret with ca.crt) or, to talk plaintext to it, gangScheduler.externalPlaintext=true" }}
{{- end }}
{{- else if and $g.enabled .Values.internalTls.enabled }}
- --gang-scheduler-ca-file=/grpc-tls/ca.crt
{{- end }}
{{- if $plaintext }}
- --insecure-plaintext-grpc
{{- end }}
{{- end -}}
