// istio-pilot prints the Envoy configuration Istio's pilot (istiod) would push to one proxy, computed
// offline from Istio and Kubernetes YAML by pilot's own fake discovery server (pilot/test/xds).
// It is asmesh's test oracle for "as Istio does"; see README.md.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/log"
	"istio.io/istio/pkg/util/protomarshal"

	// Registers every Envoy extension message (and Istio's own) so Anys marshal with their @type.
	_ "istio.io/istio/pkg/config/xds"
)

// istioVersion is the ISTIO_VERSION the proxy announces: the version of the pinned istio module (its VERSION file).
const istioVersion = "1.31.0"

type options struct {
	namespace      string
	labels         map[string]string
	ip             string
	serviceAccount string
	proxyType      model.NodeType
	clusterID      string
	workloadName   string
	meshFile       string
	verbose        bool
	files          []string
}

// inputError is bad input: exit 2.
type inputError struct{ msg string }

func (e inputError) Error() string { return e.msg }

func main() {
	defer func() {
		if r := recover(); r != nil {
			fail(1, fmt.Sprintf("internal error: %v", r))
		}
	}()
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fail(2, err.Error())
	}
	quietLogs(opts.verbose)
	out, err := run(opts)
	if err != nil {
		code := 1
		if errors.As(err, new(inputError)) {
			code = 2
		}
		fail(code, err.Error())
	}
	w := bufio.NewWriter(os.Stdout)
	_, _ = w.Write(out)
	_ = w.WriteByte('\n')
	if err := w.Flush(); err != nil {
		fail(1, "writing stdout: "+err.Error())
	}
	os.Exit(0) // the fake server's goroutines need no orderly shutdown
}

// fail prints one line on stderr and exits.
func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, "istio-pilot: "+oneLine(msg))
	os.Exit(code)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("istio-pilot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := options{}
	labels := fs.String("labels", "", "workload labels k=v,k=v")
	typ := fs.String("type", "sidecar", "proxy type: sidecar | router")
	fs.StringVar(&o.namespace, "namespace", "default", "the proxy's namespace")
	fs.StringVar(&o.ip, "ip", "10.0.0.1", "the proxy's IP (a ServiceEntry/WorkloadEntry/Pod/EndpointSlice address makes it that workload)")
	fs.StringVar(&o.serviceAccount, "service-account", "default", "the proxy's service account")
	fs.StringVar(&o.clusterID, "cluster-id", "Kubernetes", "the proxy's cluster id")
	fs.StringVar(&o.workloadName, "workload-name", "", "the proxy's workload name (default: the app label, else 'workload')")
	fs.StringVar(&o.meshFile, "mesh", "", "a MeshConfig YAML file (istiod's mesh config: pathNormalization, outboundTrafficPolicy, ...), over Istio's defaults")
	fs.BoolVar(&o.verbose, "verbose", false, "keep pilot's own logs on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(os.Stdout, usage)
			os.Exit(0)
		}
		return o, err
	}
	switch *typ {
	case "sidecar":
		o.proxyType = model.SidecarProxy
	case "router":
		o.proxyType = model.Router
	default:
		return o, fmt.Errorf("--type %q: want sidecar or router", *typ)
	}
	o.labels = map[string]string{}
	if *labels != "" {
		for _, kv := range strings.Split(*labels, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return o, fmt.Errorf("--labels %q: want k=v,k=v", *labels)
			}
			o.labels[k] = v
		}
	}
	if o.workloadName == "" {
		o.workloadName = o.labels["app"]
		if o.workloadName == "" {
			o.workloadName = "workload"
		}
	}
	o.files = fs.Args()
	if len(o.files) == 0 {
		return o, errors.New("no input files (usage: istio-pilot [flags] FILE.yaml ...; --help)")
	}
	return o, nil
}

const usage = `istio-pilot [flags] FILE.yaml ...   ('-' reads stdin)
Prints {"listeners","routes","clusters","endpoints","extensions","warnings"}: the Envoy v3 resources (proto JSON,
field names as in the .proto) that Istio's pilot generates for one proxy from the given Istio and
Kubernetes documents. Exit 2 with one line on stderr for bad flags, YAML or an Istio validation failure.
  --namespace NS         proxy namespace (default)
  --labels k=v,...       workload labels (selectors of RequestAuthentication, AuthorizationPolicy, Sidecar...)
  --ip IP                proxy IP; the endpoint with this address makes it that workload (10.0.0.1)
  --service-account SA   proxy service account (default)
  --type sidecar|router  proxy type (sidecar)
  --cluster-id ID        cluster id (Kubernetes)
  --workload-name NAME   workload name (app label)
  --mesh FILE            MeshConfig YAML (the istio ConfigMap's 'mesh' key) over Istio's defaults
  --verbose              keep pilot's logs on stderr
`

// quietLogs keeps stderr for our one error line: pilot logs a lot at info level.
func quietLogs(verbose bool) {
	o := log.DefaultOptions()
	if !verbose {
		o.OutputPaths = []string{"/dev/null"}
		o.ErrorOutputPaths = []string{"/dev/null"}
	}
	_ = log.Configure(o)
}

type inputs struct {
	configs  []config.Config
	objects  []runtime.Object
	warnings []string
}

func readInputs(files []string) (inputs, error) {
	var in inputs
	for _, f := range files {
		var data []byte
		var err error
		if f == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return in, inputError{fmt.Sprintf("%s: %v", f, err)}
		}
		if err := in.addFile(f, data); err != nil {
			return in, err
		}
	}
	return in, nil
}

func (in *inputs) addFile(file string, data []byte) error {
	reader := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	t0 := time.Unix(1767225600, 0) // one creation time for all, as pilot's test helpers do (oldest wins ties by name)
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if err == io.EOF {
			return nil
		}
		where := fmt.Sprintf("%s: document %d", file, n)
		if err != nil {
			return inputError{fmt.Sprintf("%s: %v", where, err)}
		}
		var head struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return inputError{fmt.Sprintf("%s: %v", where, err)}
		}
		if head.Kind == "" && head.APIVersion == "" {
			if len(bytes.TrimSpace(doc)) == 0 || isOnlyComments(doc) {
				continue
			}
			return inputError{where + ": no apiVersion/kind"}
		}
		where = fmt.Sprintf("%s (%s)", where, strings.TrimSpace(head.Kind+" "+qualified(head.Metadata.Namespace, head.Metadata.Name)))
		gvk := head.GroupVersionKind()
		if schema, ok := collections.PilotGatewayAPI().FindByGroupVersionAliasesKind(resource.FromKubernetesGVK(&gvk)); ok {
			if err := strictSpec(schema, doc); err != nil {
				return inputError{fmt.Sprintf("%s: %v", where, err)}
			}
			cfgs, _, err := crd.ParseInputs(string(doc)) // converts and runs Istio's validation
			if err != nil {
				return inputError{fmt.Sprintf("%s: %v", where, err)}
			}
			for _, c := range cfgs {
				if c.Namespace == "" && !schema.IsClusterScoped() {
					c.Namespace = "default"
				}
				// istiod's Kubernetes config store sets Domain to the cluster's DNS suffix (crdclient.TranslateObject);
				// without it pilot resolves a short host `svc` to `svc.<ns>` instead of `svc.<ns>.svc.cluster.local`.
				if c.Domain == "" {
					c.Domain = "cluster.local"
				}
				if c.CreationTimestamp.IsZero() {
					c.CreationTimestamp = t0
				}
				if warn, _ := schema.ValidateConfig(c); warn != nil {
					in.warnings = append(in.warnings, fmt.Sprintf("%s: %s", where, oneLine(warn.Error())))
				}
				in.configs = append(in.configs, c)
			}
			continue
		}
		obj, _, err := kubelib.IstioCodec.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			return inputError{fmt.Sprintf("%s: %v", where, err)}
		}
		if m, err := meta.Accessor(obj); err == nil && m.GetNamespace() == "" && head.Kind != "Namespace" {
			m.SetNamespace("default")
		}
		in.objects = append(in.objects, obj)
	}
}

// strictSpec rejects unknown fields in spec, as the API server's strict field validation does: pilot's own
// conversion drops them silently (a misspelt `macth` would be no match at all).
func strictSpec(schema resource.Schema, doc []byte) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(j, &top); err != nil {
		return err
	}
	spec, ok := top["spec"]
	if !ok {
		return nil
	}
	inst, err := schema.NewInstance()
	if err != nil {
		return err
	}
	if m, ok := inst.(proto.Message); ok {
		if err := protomarshal.Unmarshal(spec, m); err != nil { // Istio's strict jsonpb: durations like 500ms, as pilot reads them
			return fmt.Errorf("spec: %v", err)
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(spec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(inst); err != nil {
		return fmt.Errorf("spec: %v", err)
	}
	return nil
}

func isOnlyComments(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "#") && l != "---" {
			return false
		}
	}
	return true
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

func run(o options) ([]byte, error) {
	in, err := readInputs(o.files)
	if err != nil {
		return nil, err
	}
	meshConfig := mesh.DefaultMeshConfig()
	if o.meshFile != "" {
		data, err := os.ReadFile(o.meshFile)
		if err != nil {
			return nil, inputError{fmt.Sprintf("--mesh %v", err)}
		}
		if j, err := yaml.YAMLToJSON(data); err != nil {
			return nil, inputError{fmt.Sprintf("%s: %v", o.meshFile, err)}
		} else if err := protomarshal.Unmarshal(j, &meshconfig.MeshConfig{}); err != nil { // unknown fields are errors
			return nil, inputError{fmt.Sprintf("%s: %v", o.meshFile, err)}
		}
		if meshConfig, err = mesh.ApplyMeshConfigDefaults(string(data)); err != nil {
			return nil, inputError{fmt.Sprintf("%s: %v", o.meshFile, err)}
		}
	}
	t := newFailer()
	defer t.removeTempDirs()
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		Configs:            in.configs,
		KubernetesObjects:  in.objects,
		DefaultClusterName: cluster.ID(o.clusterID),
		MeshConfig:         meshConfig,
	})
	proxy := s.SetupProxy(&model.Proxy{
		Type:            o.proxyType,
		ID:              o.workloadName + "." + o.namespace,
		IPAddresses:     []string{o.ip},
		ConfigNamespace: o.namespace,
		DNSDomain:       o.namespace + ".svc.cluster.local",
		Labels:          o.labels,
		Metadata: &model.NodeMetadata{
			IstioVersion:   istioVersion,
			Labels:         o.labels,
			Namespace:      o.namespace,
			ServiceAccount: o.serviceAccount,
			ClusterID:      cluster.ID(o.clusterID),
			WorkloadName:   o.workloadName,
			InstanceIPs:    []string{o.ip},
		},
	})
	listeners := s.Listeners(proxy)
	routes := s.RoutesFromListeners(proxy, listeners)
	clusters := s.Clusters(proxy)
	endpoints := s.Endpoints(proxy)

	out := struct {
		Listeners  []json.RawMessage `json:"listeners"`
		Routes     []json.RawMessage `json:"routes"`
		Clusters   []json.RawMessage `json:"clusters"`
		Endpoints  []json.RawMessage `json:"endpoints"`
		Extensions []json.RawMessage `json:"extensions"`
		Warnings   []string          `json:"warnings"`
	}{Listeners: []json.RawMessage{}, Routes: []json.RawMessage{}, Clusters: []json.RawMessage{}, Endpoints: []json.RawMessage{}, Extensions: []json.RawMessage{}, Warnings: in.warnings}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, l := range listeners {
		if out.Listeners, err = appendJSON(out.Listeners, l); err != nil {
			return nil, err
		}
	}
	for _, r := range routes {
		if out.Routes, err = appendJSON(out.Routes, r); err != nil {
			return nil, err
		}
	}
	for _, c := range clusters {
		if out.Clusters, err = appendJSON(out.Clusters, c); err != nil {
			return nil, err
		}
	}
	// ECDS: the extension configs the listeners name in config_discovery (WasmPlugins), as istiod serves them.
	var ecdsNames []string
	for _, l := range out.Listeners {
		var v any
		if err := json.Unmarshal(l, &v); err != nil {
			return nil, err
		}
		ecdsNames = append(ecdsNames, configDiscoveryNames(v)...)
	}
	sort.Strings(ecdsNames)
	ecdsNames = slices.Compact(ecdsNames)
	for _, e := range s.ConfigGen.BuildExtensionConfiguration(proxy, s.PushContext(), ecdsNames, nil) {
		if out.Extensions, err = appendJSON(out.Extensions, e); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(endpoints, func(i, j int) bool { return endpoints[i].ClusterName < endpoints[j].ClusterName })
	for _, e := range endpoints {
		if out.Endpoints, err = appendJSON(out.Endpoints, e); err != nil {
			return nil, err
		}
	}
	return json.Marshal(out)
}

// configDiscoveryNames: the names of every {"name": ..., "config_discovery": ...} filter in a listener's JSON.
func configDiscoveryNames(v any) []string {
	var names []string
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["config_discovery"]; ok {
			if n, ok := t["name"].(string); ok {
				names = append(names, n)
			}
		}
		for _, c := range t {
			names = append(names, configDiscoveryNames(c)...)
		}
	case []any:
		for _, c := range t {
			names = append(names, configDiscoveryNames(c)...)
		}
	}
	return names
}

var marshal = protojson.MarshalOptions{UseProtoNames: true, Resolver: protoregistry.GlobalTypes}

func appendJSON(list []json.RawMessage, m proto.Message) ([]json.RawMessage, error) {
	b, err := marshal.Marshal(m)
	if err != nil {
		return list, fmt.Errorf("marshal %s: %v", m.ProtoReflect().Descriptor().FullName(), err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil { // protojson's output has random spaces; make it stable
		return list, err
	}
	return append(list, buf.Bytes()), nil
}
