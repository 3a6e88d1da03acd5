//go:build k8sschema

// Package k8s holds the Kubernetes manifests (kustomize base and overlays). Its test renders every overlay with
// the kustomize API and checks each object against the Kubernetes API's own OpenAPI v3 schemas (from the
// k8s.io/kubernetes module, which `make test-k8s` downloads from the Go module proxy before the test), strictly:
// a misspelt or misplaced field fails, as it would with kubectl's server-side field validation. ServiceMonitor
// (a CRD) is decoded strictly into the Prometheus Operator's Go types. Then it checks what the schemas cannot:
// selectors that match, probes, drain timing, resource-derived runtime settings, security settings.
package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"digitpad/deploy/capacity"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

type object = map[string]any

// render builds a kustomization directory into its objects.
func render(t *testing.T, dir string) []object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize %s: %v", dir, err)
	}
	var objs []object
	for _, r := range rm.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, m)
	}
	if len(objs) == 0 {
		t.Fatalf("kustomize %s: no objects", dir)
	}
	return objs
}

// schemas validates objects against the OpenAPI v3 documents of one Kubernetes release.
type schemas struct {
	dir      string
	compiler *jsonschema.Compiler
	byGVK    map[string]string // "group/version/Kind" -> schema location
	loaded   map[string]bool
}

func newSchemas(t *testing.T) *schemas {
	dir := os.Getenv("DIGITPAD_K8S_OPENAPI")
	if dir == "" {
		t.Fatal("DIGITPAD_K8S_OPENAPI is not set: run `make test-k8s`")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4) // OpenAPI 3.0 schema objects are draft 4/5 JSON Schema
	return &schemas{dir: dir, compiler: c, byGVK: map[string]string{}, loaded: map[string]bool{}}
}

// strict adds additionalProperties: false to every object schema that lists its properties and says nothing of
// others, so unknown fields fail (what kubeconform's -strict does; the API server rejects them with
// fieldValidation=Strict).
func strict(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["properties"]; ok {
			_, has := v["additionalProperties"]
			if !has && v["x-kubernetes-preserve-unknown-fields"] != true {
				v["additionalProperties"] = false
			}
		}
		for _, c := range v {
			strict(c)
		}
	case []any:
		for _, c := range v {
			strict(c)
		}
	}
}

func (s *schemas) load(t *testing.T, group, version string) {
	file := "api__" + version + "_openapi.json"
	if group != "" {
		file = "apis__" + group + "__" + version + "_openapi.json"
	}
	if s.loaded[file] {
		return
	}
	s.loaded[file] = true
	b, err := os.ReadFile(filepath.Join(s.dir, file))
	if err != nil {
		t.Fatalf("no OpenAPI document for %s/%s: %v", group, version, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	strict(doc)
	url := "file:///" + file
	if err := s.compiler.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	for name, sch := range doc.(object)["components"].(object)["schemas"].(object) {
		gvks, _ := sch.(object)["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			g := g.(object)
			s.byGVK[fmt.Sprintf("%s/%s/%s", g["group"], g["version"], g["kind"])] = url + "#/components/schemas/" + name
		}
	}
}

func (s *schemas) validate(t *testing.T, o object) error {
	group, version, ok := strings.Cut(o["apiVersion"].(string), "/")
	if !ok {
		group, version = "", group
	}
	s.load(t, group, version)
	loc, ok := s.byGVK[fmt.Sprintf("%s/%s/%s", group, version, o["kind"])]
	if !ok {
		return fmt.Errorf("no schema for %s %s", o["apiVersion"], o["kind"])
	}
	sch, err := s.compiler.Compile(loc)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(o)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	return sch.Validate(inst)
}

// validateCRD decodes custom resources strictly into their operator's Go types.
func validateCRD(o object) (handled bool, err error) {
	if o["apiVersion"] != "monitoring.coreos.com/v1" {
		return false, nil
	}
	b, _ := json.Marshal(o)
	switch o["kind"] {
	case "ServiceMonitor":
		var sm monitoringv1.ServiceMonitor
		if err := yaml.UnmarshalStrict(b, &sm); err != nil {
			return true, err
		}
		if len(sm.Spec.Endpoints) == 0 {
			return true, fmt.Errorf("ServiceMonitor %s has no endpoints", sm.Name)
		}
		return true, nil
	case "PodMonitor":
		var pm monitoringv1.PodMonitor
		return true, yaml.UnmarshalStrict(b, &pm)
	}
	return true, fmt.Errorf("unknown monitoring.coreos.com kind %s", o["kind"])
}

var overlays = []string{"overlays/local", "overlays/aws", "prometheus-adapter"}

func TestManifests_ValidAgainstKubernetesSchemas(t *testing.T) {
	s := newSchemas(t)
	for _, dir := range overlays {
		t.Run(dir, func(t *testing.T) {
			for _, o := range render(t, dir) {
				name := fmt.Sprintf("%s %s", o["kind"], get(o, "metadata", "name"))
				if handled, err := validateCRD(o); handled {
					if err != nil {
						t.Errorf("%s: %v", name, err)
					}
					continue
				}
				if err := s.validate(t, o); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
}

// The validator must refuse what a cluster would: a misspelt field, a wrong type, a missing required field.
func TestManifests_ValidatorRejectsBrokenObjects(t *testing.T) {
	s := newSchemas(t)
	dep := func() object {
		for _, o := range render(t, "overlays/local") {
			if o["kind"] == "Deployment" && get(o, "metadata", "name") == "digitpad" {
				return o
			}
		}
		t.Fatal("no digitpad Deployment")
		return nil
	}
	for _, tc := range []struct {
		name   string
		break_ func(o object)
	}{
		{"misspelt field", func(o object) { get(o, "spec").(object)["replica"] = 3 }},
		{"wrong type", func(o object) { get(o, "spec").(object)["replicas"] = "three" }},
		{"missing containers", func(o object) { delete(get(o, "spec", "template", "spec").(object), "containers") }},
		{"probe field in the wrong place", func(o object) { container(o)["readinessProbe"].(object)["path"] = "/readyz" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := dep()
			if err := s.validate(t, o); err != nil {
				t.Fatalf("unbroken Deployment invalid: %v", err)
			}
			tc.break_(o)
			if err := s.validate(t, o); err == nil {
				t.Errorf("accepted a Deployment with a %s", tc.name)
			}
		})
	}
	if _, err := validateCRD(object{"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
		"metadata": object{"name": "x"}, "spec": object{"endpoints": []any{object{"prot": "http"}}}}); err == nil {
		t.Error("accepted a ServiceMonitor with a misspelt endpoint field")
	}
}

func get(o any, path ...string) any {
	for _, p := range path {
		m, ok := o.(object)
		if !ok {
			return nil
		}
		o = m[p]
	}
	return o
}

func container(dep object) object {
	return get(dep, "spec", "template", "spec", "containers").([]any)[0].(object)
}

func find(objs []object, kind, name string) object {
	for _, o := range objs {
		if o["kind"] == kind && get(o, "metadata", "name") == name {
			return o
		}
	}
	return nil
}

func matches(selector, labels any) bool {
	sel, _ := selector.(object)
	lab, _ := labels.(object)
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if lab[k] != v {
			return false
		}
	}
	return true
}

var varRef = regexp.MustCompile(`\$\(([A-Z_][A-Z0-9_]*)\)`)

func TestManifests_ServerDeploymentBehaviour(t *testing.T) {
	for _, dir := range []string{"overlays/local", "overlays/aws"} {
		t.Run(dir, func(t *testing.T) {
			objs := render(t, dir)
			dep := find(objs, "Deployment", "digitpad")
			if dep == nil {
				t.Fatal("no Deployment digitpad")
			}
			podLabels := get(dep, "spec", "template", "metadata", "labels")
			pod := get(dep, "spec", "template", "spec").(object)
			c := container(dep)
			cm := find(objs, "ConfigMap", get(c, "envFrom").([]any)[0].(object)["configMapRef"].(object)["name"].(string))
			if cm == nil {
				t.Fatal("the ConfigMap the Deployment reads is not rendered")
			}

			// Selectors of the Service, the PDB and the Deployment itself reach the pods.
			if svc := find(objs, "Service", "digitpad"); svc == nil || !matches(get(svc, "spec", "selector"), podLabels) {
				t.Error("Service digitpad does not select the server pods")
			}
			if pdb := find(objs, "PodDisruptionBudget", "digitpad"); pdb == nil || !matches(get(pdb, "spec", "selector", "matchLabels"), podLabels) {
				t.Error("PodDisruptionBudget does not select the server pods")
			}
			if !matches(get(dep, "spec", "selector", "matchLabels"), podLabels) {
				t.Error("Deployment selector does not match its pod template")
			}
			if sm := find(objs, "ServiceMonitor", "digitpad"); sm == nil || !matches(get(sm, "spec", "selector", "matchLabels"), get(find(objs, "Service", "digitpad"), "metadata", "labels")) {
				t.Error("ServiceMonitor does not select the Service")
			}

			// Every $(VAR) in the args is defined, or Kubernetes would pass it through literally.
			defined := map[string]bool{}
			for k := range get(cm, "data").(object) {
				defined[k] = true
			}
			for _, e := range get(c, "env").([]any) {
				defined[e.(object)["name"].(string)] = true
			}
			for _, a := range get(c, "args").([]any) {
				for _, m := range varRef.FindAllStringSubmatch(a.(string), -1) {
					if !defined[m[1]] {
						t.Errorf("arg %q uses $(%s), which is not defined", a, m[1])
					}
				}
			}

			// Probes: readiness = model + store (/readyz), liveness /healthz, a startup probe.
			for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/readyz"} {
				if got := get(c, probe, "httpGet", "path"); got != path {
					t.Errorf("%s path = %v, want %s", probe, got, path)
				}
			}

			// Drain: preStop sleep + the server's shutdown timeout fit in the grace period.
			sd, err := time.ParseDuration(get(cm, "data", "SHUTDOWN_TIMEOUT").(string))
			if err != nil {
				t.Fatal(err)
			}
			sleep := get(c, "lifecycle", "preStop", "sleep", "seconds")
			grace := get(pod, "terminationGracePeriodSeconds")
			if sleep == nil || grace == nil || time.Duration(toInt(sleep)+1)*time.Second+sd > time.Duration(toInt(grace))*time.Second {
				t.Errorf("preStop sleep %v s + shutdown %v must fit in the grace period %v s", sleep, sd, grace)
			}

			// The Go runtime follows the limits.
			env := map[string]object{}
			for _, e := range get(c, "env").([]any) {
				env[e.(object)["name"].(string)] = e.(object)
			}
			for name, res := range map[string]string{"GOMAXPROCS": "limits.cpu", "GOMEMLIMIT": "limits.memory"} {
				if got := get(env[name], "valueFrom", "resourceFieldRef", "resource"); got != res {
					t.Errorf("%s from %v, want resourceFieldRef %s", name, got, res)
				}
			}
			for _, k := range []string{"requests", "limits"} {
				for _, r := range []string{"cpu", "memory"} {
					if get(c, "resources", k, r) == nil {
						t.Errorf("resources.%s.%s not set (the cluster autoscaler and HPA need requests)", k, r)
					}
				}
			}

			// The registry: PostgreSQL + S3 (shared by the replicas), or a directory on a writable volume; the root
			// filesystem is read-only, so serve's default (DATA/registry) would fail at start.
			switch reg := fmt.Sprint(get(env["DIGITPAD_REGISTRY"], "value")); {
			case reg == "$(DATABASE_URL)":
				if blobs := fmt.Sprint(get(cm, "data", "DIGITPAD_REGISTRY_BLOBS")); !strings.HasPrefix(blobs, "s3://") {
					t.Errorf("PostgreSQL registry without an S3 URL for its files (DIGITPAD_REGISTRY_BLOBS=%q)", blobs)
				}
			default:
				writable := false
				for _, m := range get(c, "volumeMounts").([]any) {
					if strings.HasPrefix(reg, fmt.Sprint(get(m, "mountPath"))+"/") && get(m, "readOnly") != true {
						writable = true
					}
				}
				if !writable {
					t.Errorf("DIGITPAD_REGISTRY=%q is neither $(DATABASE_URL) nor on a writable volume", reg)
				}
			}

			// Security: every pod of this app runs non-root, read-only, without capabilities.
			for _, o := range objs {
				var spec any
				switch o["kind"] {
				case "Deployment", "Job":
					spec = get(o, "spec", "template", "spec")
				case "CronJob":
					spec = get(o, "spec", "jobTemplate", "spec", "template", "spec")
				default:
					continue
				}
				if get(o, "metadata", "labels", "app.kubernetes.io/name") != "digitpad" {
					continue
				}
				name := fmt.Sprint(o["kind"], " ", get(o, "metadata", "name"))
				if get(spec, "securityContext", "runAsNonRoot") != true {
					t.Errorf("%s: pod not runAsNonRoot", name)
				}
				for _, c := range get(spec, "containers").([]any) {
					sc := get(c, "securityContext")
					drop, _ := get(sc, "capabilities", "drop").([]any)
					if get(sc, "readOnlyRootFilesystem") != true || get(sc, "allowPrivilegeEscalation") != false || !slices.Contains(drop, any("ALL")) {
						t.Errorf("%s: container %v lacks readOnlyRootFilesystem/no privilege escalation/drop ALL", name, get(c, "name"))
					}
				}
			}

			// Topology spread over zones and nodes.
			tsc, _ := get(pod, "topologySpreadConstraints").([]any)
			var keys []string
			for _, s := range tsc {
				keys = append(keys, get(s, "topologyKey").(string))
				if !matches(get(s, "labelSelector", "matchLabels"), podLabels) {
					t.Errorf("topology spread over %v does not select the pods", get(s, "topologyKey"))
				}
			}
			if !slices.Contains(keys, "topology.kubernetes.io/zone") || !slices.Contains(keys, "kubernetes.io/hostname") {
				t.Errorf("topology spread keys %v, want zone and hostname", keys)
			}
		})
	}
}

func toInt(v any) int {
	switch v := v.(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return -1
}

func TestManifests_AutoscalingOnCPUAndInFlight(t *testing.T) {
	adapter := render(t, "prometheus-adapter")
	cfg := find(adapter, "ConfigMap", "prometheus-adapter-digitpad")
	if cfg == nil {
		t.Fatal("no prometheus-adapter ConfigMap")
	}
	var rules struct {
		Rules []struct {
			// The fields of prometheus-adapter's discovery rule (its config package), so a typo fails here.
			SeriesQuery string `json:"seriesQuery"`
			Resources   struct {
				Overrides map[string]struct {
					Group    string `json:"group"`
					Resource string `json:"resource"`
				} `json:"overrides"`
				Template string `json:"template"`
			} `json:"resources"`
			Name struct {
				Matches string `json:"matches"`
				As      string `json:"as"`
			} `json:"name"`
			MetricsQuery string `json:"metricsQuery"`
		} `json:"rules"`
	}
	if err := yaml.UnmarshalStrict([]byte(get(cfg, "data", "config.yaml").(string)), &rules); err != nil {
		t.Fatalf("adapter config: %v", err)
	}
	served := map[string]bool{}
	for _, r := range rules.Rules {
		served[r.Name.As] = true
		if r.Resources.Overrides["pod"].Resource != "pod" || r.Resources.Overrides["namespace"].Resource != "namespace" {
			t.Errorf("rule %s does not map the pod and namespace labels to resources (a Pods metric needs both)", r.Name.As)
		}
		if !strings.Contains(r.MetricsQuery, "<<.Series>>") || !strings.Contains(r.MetricsQuery, "<<.LabelMatchers>>") {
			t.Errorf("rule %s: metricsQuery %q must use <<.Series>> and <<.LabelMatchers>>", r.Name.As, r.MetricsQuery)
		}
	}
	for _, dir := range []string{"overlays/local", "overlays/aws"} {
		objs := render(t, dir)
		hpa := find(objs, "HorizontalPodAutoscaler", "digitpad")
		if hpa == nil {
			t.Fatalf("%s: no HPA", dir)
		}
		if ref := get(hpa, "spec", "scaleTargetRef"); get(ref, "kind") != "Deployment" || find(objs, "Deployment", get(ref, "name").(string)) == nil {
			t.Errorf("%s: HPA targets %v, not the rendered Deployment", dir, ref)
		}
		var cpu, pods bool
		for _, m := range get(hpa, "spec", "metrics").([]any) {
			switch get(m, "type") {
			case "Resource":
				cpu = cpu || get(m, "resource", "name") == "cpu"
			case "Pods":
				name := get(m, "pods", "metric", "name").(string)
				pods = true
				if !served[name] {
					t.Errorf("%s: HPA scales on %s, which the prometheus-adapter rules do not serve", dir, name)
				}
			}
		}
		if !cpu || !pods {
			t.Errorf("%s: HPA metrics: cpu %v, per-pod custom metric %v; want both", dir, cpu, pods)
		}
		if min := toInt(get(hpa, "spec", "minReplicas")); min < 2 {
			t.Errorf("%s: minReplicas %d leaves no replica during a disruption", dir, min)
		}
	}
}

func TestManifests_AWSOverlay(t *testing.T) {
	objs := render(t, "overlays/aws")
	ing := find(objs, "Ingress", "digitpad")
	if ing == nil {
		t.Fatal("no Ingress")
	}
	ann := get(ing, "metadata", "annotations").(object)
	if get(ing, "spec", "ingressClassName") != "alb" {
		t.Error("Ingress is not for the AWS Load Balancer Controller (class alb)")
	}
	m := regexp.MustCompile(`idle_timeout\.timeout_seconds=(\d+)`).FindStringSubmatch(fmt.Sprint(ann["alb.ingress.kubernetes.io/load-balancer-attributes"]))
	if m == nil || len(m[1]) < 4 { // >= 1000 s: websockets idle between codes
		t.Errorf("ALB idle timeout %v, want a websocket-friendly one (>= 1000 s)", m)
	}
	if ann["alb.ingress.kubernetes.io/healthcheck-path"] != "/readyz" {
		t.Error("ALB health check is not the readiness endpoint")
	}
	admitted := false
	for _, r := range get(find(objs, "NetworkPolicy", "digitpad"), "spec", "ingress").([]any) {
		for _, f := range get(r, "from").([]any) {
			admitted = admitted || get(f, "ipBlock", "cidr") != nil
		}
	}
	if !admitted {
		t.Error("the NetworkPolicy does not admit the ALB's subnets (target-type ip sends from VPC addresses, not pods)")
	}
	sa := find(objs, "ServiceAccount", "digitpad")
	if !strings.HasPrefix(fmt.Sprint(get(sa, "metadata", "annotations", "eks.amazonaws.com/role-arn")), "arn:aws:iam::") {
		t.Error("ServiceAccount has no IRSA role")
	}
	sec := find(objs, "Secret", "digitpad-secrets")
	if url := fmt.Sprint(get(sec, "stringData", "database-url")); !strings.HasPrefix(url, "postgres://") || !strings.Contains(url, "sslmode=require") {
		t.Errorf("database-url %q: want PostgreSQL (RDS) over TLS", url)
	}
	if img := fmt.Sprint(get(container(find(objs, "Deployment", "digitpad")), "image")); !strings.Contains(img, ".dkr.ecr.") {
		t.Errorf("image %s is not from ECR", img)
	}
}

// The capacity plan's simulation (deploy/capacity) and the manifests must describe the same autoscaler.
func TestManifests_HPAMatchesTheCapacitySimulation(t *testing.T) {
	p := capacity.Defaults()
	objs := render(t, "base")
	hpa := find(objs, "HorizontalPodAutoscaler", "digitpad")
	spec := get(hpa, "spec")
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: manifests %v, simulation %v", what, got, want)
		}
	}
	check("minReplicas", toInt(get(spec, "minReplicas")), p.MinReplicas)
	check("maxReplicas", toInt(get(spec, "maxReplicas")), p.MaxReplicas)
	for _, m := range get(spec, "metrics").([]any) {
		switch get(m, "type") {
		case "Resource":
			check("CPU averageUtilization", toInt(get(m, "resource", "target", "averageUtilization")), int(p.CPUTarget))
		case "Pods":
			check("in-flight averageValue", get(m, "pods", "target", "averageValue"), p.InFlightTarget)
		}
	}
	check("scale-down stabilisation", toInt(get(spec, "behavior", "scaleDown", "stabilizationWindowSeconds")), int(p.ScaleDownWindow.Seconds()))
	for _, pol := range get(spec, "behavior", "scaleUp", "policies").([]any) {
		check("scale-up policy period", toInt(get(pol, "periodSeconds")), int(p.SyncPeriod.Seconds()))
		switch get(pol, "type") {
		case "Percent":
			check("scale-up percent", toInt(get(pol, "value")), int(p.ScaleUpPercent))
		case "Pods":
			check("scale-up pods", toInt(get(pol, "value")), p.ScaleUpPods)
		}
	}
	c := container(find(objs, "Deployment", "digitpad"))
	check("CPU request", get(c, "resources", "requests", "cpu"), fmt.Sprintf("%dm", int(p.CPURequest*1000)))
	adapter := get(find(render(t, "prometheus-adapter"), "ConfigMap", "prometheus-adapter-digitpad"), "data", "config.yaml").(string)
	if w := fmt.Sprintf("[%ds]", int(p.InFlightWindow.Seconds())); !strings.Contains(adapter, w) {
		t.Errorf("adapter rule does not average over the simulation's in-flight window %s", w)
	}
}
