// Package helm checks the Helm chart in deploy/helm/sfbex-exporter with the
// real helm (v4): lint --strict, then the manifests `helm template` renders,
// decoded strictly (unknown or duplicate fields are errors) into the
// Kubernetes and Prometheus Operator API types, the PrometheusRule's groups
// through `promtool check rules`. A module of its own, so the Kubernetes
// dependencies stay out of the agent's.
//
// helm: $SFBEX_HELM, else helm on PATH (scripts/helm.sh builds v4 into a
// cache). Without helm or promtool the tests skip, and fail under CI=true.
package helm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../../deploy/helm/sfbex-exporter"

func need(t *testing.T, name, env string) string {
	t.Helper()
	if p := os.Getenv(env); env != "" && p != "" {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (CI=true): scripts/test.sh provides it", name)
		}
		t.Skipf("%s not found: skipped (scripts/test.sh provides it)", name)
	}
	return p
}

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(need(t, "helm", "SFBEX_HELM"), args...)
	// No repositories, plugins or cache of the user's.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func TestLintStrict(t *testing.T) {
	for _, values := range []string{"", "testdata/all-on.yaml"} {
		args := []string{"lint", "--strict", chartDir}
		if values != "" {
			args = append(args, "--values", values)
		}
		out, err := helm(t, args...)
		if err != nil {
			t.Errorf("%v\n%s", err, out)
		}
	}
}

// manifests are the decoded objects of one `helm template`.
type manifests struct {
	deployments     []appsv1.Deployment
	services        []corev1.Service
	configMaps      []corev1.ConfigMap
	serviceMonitors []monitoringv1.ServiceMonitor
	rules           []monitoringv1.PrometheusRule
}

func render(t *testing.T, args ...string) manifests {
	t.Helper()
	out, err := helm(t, append([]string{"template", "sfbex", chartDir, "--namespace", "monitoring"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	var m manifests
	for i, doc := range strings.Split(out, "\n---") {
		if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
			continue
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj any
		switch meta.APIVersion + "/" + meta.Kind {
		case "apps/v1/Deployment":
			m.deployments = append(m.deployments, appsv1.Deployment{})
			obj = &m.deployments[len(m.deployments)-1]
		case "v1/Service":
			m.services = append(m.services, corev1.Service{})
			obj = &m.services[len(m.services)-1]
		case "v1/ConfigMap":
			m.configMaps = append(m.configMaps, corev1.ConfigMap{})
			obj = &m.configMaps[len(m.configMaps)-1]
		case "monitoring.coreos.com/v1/ServiceMonitor":
			m.serviceMonitors = append(m.serviceMonitors, monitoringv1.ServiceMonitor{})
			obj = &m.serviceMonitors[len(m.serviceMonitors)-1]
		case "monitoring.coreos.com/v1/PrometheusRule":
			m.rules = append(m.rules, monitoringv1.PrometheusRule{})
			obj = &m.rules[len(m.rules)-1]
		default:
			t.Fatalf("document %d: %s %s: a kind this test does not know; teach it", i, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Errorf("document %d (%s): not a valid %s: %v", i, meta.Kind, meta.Kind, err)
		}
	}
	return m
}

func TestDefaultsRenderOnlyTheAgent(t *testing.T) {
	m := render(t)
	if len(m.deployments) != 1 || len(m.services) != 1 || len(m.configMaps)+len(m.serviceMonitors)+len(m.rules) != 0 {
		t.Errorf("defaults render %d deployments, %d services, %d config maps, %d service monitors, %d rules; want the agent and its Service only (the CRDs may not exist)",
			len(m.deployments), len(m.services), len(m.configMaps), len(m.serviceMonitors), len(m.rules))
	}
}

func TestEverythingOn(t *testing.T) {
	m := render(t, "--values", "testdata/all-on.yaml")
	if len(m.deployments) != 1 || len(m.services) != 1 || len(m.serviceMonitors) != 1 || len(m.rules) != 1 {
		t.Fatalf("rendered %d deployments, %d services, %d service monitors, %d rules; want one of each",
			len(m.deployments), len(m.services), len(m.serviceMonitors), len(m.rules))
	}
	d, svc, sm := m.deployments[0], m.services[0], m.serviceMonitors[0]
	pod := d.Spec.Template.Spec

	t.Run("deployment", func(t *testing.T) {
		if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Errorf("pod security context %+v: want runAsNonRoot and a non-zero user", psc)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%d containers", len(pod.Containers))
		}
		c := pod.Containers[0]
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("container security context %+v: want a read-only root filesystem, no privilege escalation, every capability dropped", sc)
		}
		for probe, want := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
			if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != want || probe.HTTPGet.Port.StrVal != "http" {
				t.Errorf("probe %+v: want GET %s on port http", probe, want)
			}
		}
		if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 9726 {
			t.Errorf("ports %+v: want http 9726", c.Ports)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		if env["SFBEX_SIP_DOMAINS"] != "contoso.com" {
			t.Errorf("env %v: no SFBEX_SIP_DOMAINS from config", env)
		}
		// Secrets: files from the existing Secret, the agent told where by <NAME>_FILE.
		var secretVol *corev1.Volume
		for i, v := range pod.Volumes {
			if v.Secret != nil {
				secretVol = &pod.Volumes[i]
			}
		}
		if secretVol == nil || secretVol.Secret.SecretName != "sfbex-secrets" {
			t.Fatalf("volumes %+v: want the Secret sfbex-secrets", pod.Volumes)
		}
		var mountPath string
		for _, vm := range c.VolumeMounts {
			if vm.Name == secretVol.Name {
				mountPath = vm.MountPath
				if !vm.ReadOnly {
					t.Error("the secrets are mounted read-write")
				}
			}
		}
		for name, key := range map[string]string{"SFBEX_LDAP_PASSWORD": "ldap-password", "SFBEX_INGEST_TOKEN": "ingest-token"} {
			if _, ok := env[name]; ok {
				t.Errorf("%s is in the environment: a secret goes through %s_FILE", name, name)
			}
			if got, want := env[name+"_FILE"], filepath.Join(mountPath, key); got != want || mountPath == "" {
				t.Errorf("%s_FILE = %q, want %q", name, got, want)
			}
			if !slices.ContainsFunc(secretVol.Secret.Items, func(k corev1.KeyToPath) bool { return k.Key == key && k.Path == key }) {
				t.Errorf("the secret volume does not project key %s", key)
			}
		}
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Error("the agent needs no Kubernetes API token: automountServiceAccountToken should be false")
		}
	})

	t.Run("service and monitor", func(t *testing.T) {
		if !reflect.DeepEqual(svc.Spec.Selector, d.Spec.Template.Labels) && !subset(svc.Spec.Selector, d.Spec.Template.Labels) {
			t.Errorf("the Service selects %v, the pods are labelled %v", svc.Spec.Selector, d.Spec.Template.Labels)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].TargetPort.StrVal != "http" {
			t.Errorf("service ports %+v", svc.Spec.Ports)
		}
		if !subset(sm.Spec.Selector.MatchLabels, svc.Labels) {
			t.Errorf("the ServiceMonitor selects %v, the Service is labelled %v", sm.Spec.Selector.MatchLabels, svc.Labels)
		}
		if sm.Labels["release"] != "kube-prometheus-stack" {
			t.Errorf("ServiceMonitor labels %v: want serviceMonitor.labels", sm.Labels)
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" {
			t.Fatalf("endpoints %+v: want the port http", sm.Spec.Endpoints)
		}
		job := false
		for _, r := range sm.Spec.Endpoints[0].RelabelConfigs {
			if r.TargetLabel == "job" && r.Replacement != nil && *r.Replacement == "sfbex" {
				job = true
			}
		}
		if !job {
			t.Errorf("relabelings %+v: want job=sfbex, the job the bundled rules select", sm.Spec.Endpoints[0].RelabelConfigs)
		}
	})

	t.Run("rules", func(t *testing.T) {
		rule := m.rules[0]
		if rule.Labels["release"] != "kube-prometheus-stack" {
			t.Errorf("PrometheusRule labels %v: want prometheusRule.labels", rule.Labels)
		}
		// The groups are the mixin's, as in alerts/sfbex.rules.yml.
		shipped, err := os.ReadFile("../../alerts/sfbex.rules.yml")
		if err != nil {
			t.Fatal(err)
		}
		var want monitoringv1.PrometheusRuleSpec
		if err := yaml.UnmarshalStrict(shipped, &want); err != nil {
			t.Fatalf("alerts/sfbex.rules.yml: %v", err)
		}
		if !reflect.DeepEqual(rule.Spec, want) {
			t.Error("the PrometheusRule's groups differ from alerts/sfbex.rules.yml: run go generate in mixin/")
		}
		b, err := yaml.Marshal(rule.Spec)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "rules.yml")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(need(t, "promtool", ""), "check", "rules", path).CombinedOutput()
		if err != nil {
			t.Errorf("promtool check rules on the PrometheusRule's groups: %v\n%s", err, out)
		}
		t.Logf("promtool: %s", bytes.TrimSpace(out))
	})

	t.Run("dashboards", func(t *testing.T) {
		files, _ := filepath.Glob("../../dashboards/*.json")
		if len(files) == 0 || len(m.configMaps) != len(files) {
			t.Fatalf("%d dashboard ConfigMaps for %d dashboards/*.json", len(m.configMaps), len(files))
		}
		byKey := map[string]corev1.ConfigMap{}
		for _, cm := range m.configMaps {
			if cm.Labels["grafana_dashboard"] != "1" {
				t.Errorf("ConfigMap %s: labels %v, want grafana_dashboard: \"1\" for the sidecar", cm.Name, cm.Labels)
			}
			if cm.Annotations["grafana_folder"] != "Skype for Business" {
				t.Errorf("ConfigMap %s: annotations %v, want the folder", cm.Name, cm.Annotations)
			}
			for k := range cm.Data {
				byKey[k] = cm
			}
		}
		for _, f := range files {
			want, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cm, ok := byKey[filepath.Base(f)]
			if !ok {
				t.Errorf("no ConfigMap holds %s", filepath.Base(f))
				continue
			}
			got := cm.Data[filepath.Base(f)]
			if got != strings.TrimSuffix(string(want), "\n") {
				t.Errorf("ConfigMap %s: %s differs from dashboards/%s", cm.Name, filepath.Base(f), filepath.Base(f))
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("ConfigMap %s: not JSON", cm.Name)
			}
		}
	})
}

func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Mistakes in the values stop `helm template` with a message that says what to do.
func TestValuesMistakesFail(t *testing.T) {
	for _, c := range []struct {
		set, want string
	}{
		{"prometheusRule.enabled=true,serviceMonitor.job=other", "render the mixin"},
		{"secrets.files.SFBEX_LDAP_PASSWORD=ldap-password", "secrets.files needs secrets.existingSecret"},
		// values.schema.json: a misspelt key or a name that is no SFBEX_ variable.
		{"secrets.existingSecret=s,secrets.files.LDAP_PASSWORD=ldap-password", "does not match pattern '^SFBEX_"},
		{"config.LDAP_URL=ldaps://dc01", "does not match pattern '^SFBEX_"},
		{"serviceMonitor.enable=true", "additional properties 'enable' not allowed"},
		{"secrets.existingSecret=s,secrets.files.SFBEX_LDAP_PASSWORD_FILE=ldap-password", "without _FILE"},
		{"secrets.existingSecret=s,secrets.files.SFBEX_LDAP_PASSWORD=p,config.SFBEX_LDAP_PASSWORD=x", "in both config and secrets.files"},
	} {
		_, err := helm(t, "template", "sfbex", chartDir, "--set", c.set)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--set %s: %v, want an error saying %q", c.set, err, c.want)
		}
	}
}
