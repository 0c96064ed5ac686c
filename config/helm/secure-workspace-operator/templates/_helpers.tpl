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
The protected-namespace patterns config/'s policies are written for: the operator's defaults
(src/api/constants.ts DEFAULT_PROTECTED_NAMESPACES, values.yaml; test/unit/helm-chart-sources
checks all three agree).
*/}}
{{- define "sws.defaultProtectedNamespaces" -}}
{{- toJson (list "kube-*" "default" "*-system") -}}
{{- end }}

{{/*
The protectedNamespaces value, checked and without duplicates, as JSON. Each pattern goes into CEL
text (sws.protectedCEL) and the operator refuses what it does not read as a pattern, so the chart
refuses it too, with the operator's wording: a DNS-1123 label in which any character may be `*`.
*/}}
{{- define "sws.protectedNamespaces" -}}
{{- $value := .Values.protectedNamespaces -}}
{{- if not (or (kindIs "invalid" $value) (kindIs "slice" $value)) -}}
{{- fail (printf "protectedNamespaces must be a list of patterns (--set 'protectedNamespaces={kube-*,default}'), not %q" (toString $value)) -}}
{{- end -}}
{{- $patterns := list -}}
{{- range $value -}}
{{- $p := toString . -}}
{{- if not (and (le (len $p) 63) (regexMatch "^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?$" $p)) -}}
{{- fail (printf "protectedNamespaces: %q is not a namespace pattern (lower-case letters, digits, '-' and '*', at most 63, e.g. kube-*, *-system)" $p) -}}
{{- end -}}
{{- $patterns = append $patterns $p -}}
{{- end -}}
{{- toJson (uniq $patterns) -}}
{{- end }}

{{/*
The patterns as CEL tests of the namespace expression X, joined by ||, matching as the operator's
code does (src/api/protected.ts: `*` matches any run of characters, none included): an exact name
(`default`), a prefix (`kube-*`), a suffix (`*-system`), a prefix and a suffix with the length both
need (`team-*-prod`), else an anchored regular expression (`a*b*c`); "false" for no pattern. Call
with (list X PATTERNS).
*/}}
{{- define "sws.protectedCEL" -}}
{{- $x := index . 0 -}}
{{- $tests := list -}}
{{- range index . 1 -}}
{{- $p := regexReplaceAll "\\*+" . "*" -}}
{{- $parts := splitList "*" $p -}}
{{- $first := first $parts -}}
{{- $last := last $parts -}}
{{- if eq $p "*" -}}
{{- $tests = append $tests "true" -}}
{{- else if eq (len $parts) 1 -}}
{{- $tests = append $tests (printf "%s == '%s'" $x $p) -}}
{{- else if and (eq (len $parts) 2) (eq $last "") -}}
{{- $tests = append $tests (printf "%s.startsWith('%s')" $x $first) -}}
{{- else if and (eq (len $parts) 2) (eq $first "") -}}
{{- $tests = append $tests (printf "%s.endsWith('%s')" $x $last) -}}
{{- else if eq (len $parts) 2 -}}
{{- $tests = append $tests (printf "(size(%s) >= %d && %s.startsWith('%s') && %s.endsWith('%s'))" $x (add (len $first) (len $last)) $x $first $x $last) -}}
{{- else -}}
{{- $tests = append $tests (printf "%s.matches('^%s$')" $x (replace "*" ".*" $p)) -}}
{{- end -}}
{{- end -}}
{{- if $tests -}}{{ join " || " $tests }}{{- else -}}false{{- end -}}
{{- end }}

{{/* How the refusal messages name the patterns: "one matching kube-*, default, *-system". */}}
{{- define "sws.protectedWording" -}}
{{- if . -}}one matching {{ join ", " . }}{{- else -}}one matching a pattern (none configured){{- end -}}
{{- end }}

{{/*
The protected-namespace tests of config/'s confinement and guardrails policies (namespace
expressions variables.targetNamespace and a.namespace) and their messages, rewritten from
protectedNamespaces: the operator's --protected-namespaces and both policies then protect the same
namespaces. config/ holds them as sws.protectedCEL and sws.protectedWording render the defaults;
a policy holding one without the other (config/ edited, `make chart-sync` run) fails the render
rather than silently keeping the defaults (test/unit/helm-chart-sources.test.ts checks config/
holds both). Call with (list $ TEXT); files with neither (tamper protection) pass through.
*/}}
{{- define "sws.protectedPolicies" -}}
{{- $root := index . 0 -}}
{{- $text := index . 1 -}}
{{- $defaults := include "sws.defaultProtectedNamespaces" $root | fromJsonArray -}}
{{- $patterns := include "sws.protectedNamespaces" $root | fromJsonArray -}}
{{- $wording := include "sws.protectedWording" $defaults -}}
{{- $named := contains $wording $text -}}
{{- $found := false -}}
{{- range $x := list "variables.targetNamespace" "a.namespace" -}}
{{- $anchor := include "sws.protectedCEL" (list $x $defaults) -}}
{{- if contains $anchor $text -}}
{{- $found = true -}}
{{- $text = replace $anchor (include "sws.protectedCEL" (list $x $patterns)) $text -}}
{{- end -}}
{{- end -}}
{{- if ne $named $found -}}
{{- fail (printf "an admission policy holds %s but not %s: keep config/'s protected-namespace test in the form sws.protectedCEL renders for the defaults, and its message's %q" (ternary "the protected-namespace message" "a protected-namespace test" $named) (ternary "the test the chart rewrites" "the message the chart rewrites" $named) $wording) -}}
{{- end -}}
{{- $text = replace $wording (include "sws.protectedWording" $patterns) $text -}}
{{- $text -}}
{{- end }}

{{/*
One of files/*.yaml (verbatim copies of config/, `make chart-sync`) with the operator identity of
config/ (namespace secure-workspace-system) replaced by the release's, the protected namespaces by
the protectedNamespaces value (sws.protectedPolicies), and Helm's labels added to each document's
metadata.labels (its only 2-space-indented "labels:" line). Text, not parsed and re-serialised: the
CEL expressions stay byte for byte what config/ has (a YAML round trip changes the line breaks of
folded scalars). Call with (list $ "files/NAME.yaml").
*/}}
{{- define "sws.configFile" -}}
{{- $root := index . 0 -}}
{{- $labels := printf "\n  labels:\n%s\n" (include "sws.chartLabels" $root | indent 4) -}}
{{- include "sws.protectedPolicies" (list $root ($root.Files.Get (index . 1))) | replace "system:serviceaccount:secure-workspace-system:secure-workspace-operator" (include "sws.operatorUser" $root) | replace "\n  labels:\n" $labels }}
{{- end }}
