// The steering decision of bench/envoy.ts's VirtualService, written the plain Rust SDK way: drop a
// client-sent x-asmesh-cluster, pick v2 for `end-user: jason` and v1 otherwise, write the cluster,
// count the decision and clear Envoy's route cache (as asmesh's steering filter does).
// With the plugin configuration `empty` it does nothing at all (every callback the SDK's default):
// the per-filter Wasm floor (VM entry and callbacks), mounted once or several times.
use proxy_wasm::hostcalls;
use proxy_wasm::traits::*;
use proxy_wasm::types::*;

const CLUSTER_HEADER: &str = "x-asmesh-cluster";
const V1: &str = "outbound|80|v1|service_b";
const V2: &str = "outbound|80|v2|service_b";

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { counters: [0, 0], empty: false }) });
}}

struct Root {
    counters: [u32; 2],
    empty: bool,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _: usize) -> bool {
        self.empty = self.get_plugin_configuration().as_deref() == Some(b"empty".as_slice());
        for (i, subset) in ["v1", "v2"].iter().enumerate() {
            let name = format!("route=reviews-v2;subset={};asmesh_steering_decisions_total", subset);
            self.counters[i] = hostcalls::define_metric(MetricType::Counter, &name).unwrap_or(0);
        }
        true
    }
    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        if self.empty {
            return Some(Box::new(Empty));
        }
        Some(Box::new(Steer { counters: self.counters }))
    }
    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Empty;

impl Context for Empty {}

impl HttpContext for Empty {}

struct Steer {
    counters: [u32; 2],
}

impl Context for Steer {}

impl HttpContext for Steer {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        if self.get_http_request_header(CLUSTER_HEADER).is_some() {
            self.set_http_request_header(CLUSTER_HEADER, None);
        }
        let v2 = self.get_http_request_header("end-user").as_deref() == Some("jason");
        self.set_http_request_header(CLUSTER_HEADER, Some(if v2 { V2 } else { V1 }));
        let _ = hostcalls::increment_metric(self.counters[v2 as usize], 1);
        let _ = hostcalls::call_foreign_function("clear_route_cache", None);
        Action::Continue
    }
}
