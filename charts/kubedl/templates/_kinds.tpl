{{/* The job kinds: kinds.yaml, the chart's one list of them (equal to lib/api's kind table,
     checked by test/kinds). Use: (include "kubedl.kinds" . | fromYaml).kinds, a list of
     {kind, group, version, plural}. */}}
{{- define "kubedl.kinds" -}}
{{- .Files.Get "kinds.yaml" -}}
{{- end -}}
