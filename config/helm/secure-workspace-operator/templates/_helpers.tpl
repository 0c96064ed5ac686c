{{/* Labels Helm adds to every object, on top of each object's own (the equivalence test with config/ ignores them). */}}
{{- define "sws.chartLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The operator pods' selector, as in config/. */}}
{{- define "sws.selectorLabels" -}}
app.kubernetes.io/name: secure-workspace-operator
app.kubernetes.io/component: controller
{{- end }}

{{/* The operator's identity, which the admission policies exempt and confine. */}}
{{- define "sws.operatorUser" -}}
system:serviceaccount:{{ .Release.Namespace }}:secure-workspace-operator
{{- end }}

{{/*
One of files/*.yaml (verbatim copies of config/, `make chart-sync`) with the operator identity of
config/ (namespace secure-workspace-system) replaced by the release's, and Helm's labels added to
each document's metadata.labels (its only 2-space-indented "labels:" line). Text, not parsed and
re-serialised: the CEL expressions stay byte for byte what config/ has (a YAML round trip changes
the line breaks of folded scalars). Call with (list $ "files/NAME.yaml").
*/}}
{{- define "sws.configFile" -}}
{{- $root := index . 0 -}}
{{- $labels := printf "\n  labels:\n%s\n" (include "sws.chartLabels" $root | indent 4) -}}
{{- $root.Files.Get (index . 1) | replace "system:serviceaccount:secure-workspace-system:secure-workspace-operator" (include "sws.operatorUser" $root) | replace "\n  labels:\n" $labels }}
{{- end }}
