// The imports Envoy (proxy-wasm-cpp-host, ABI v0.2.1) links into a module. A module that asks
// for anything else is refused by Envoy at load time. Source: proxy-wasm-cpp-host exports.h
// (FOR_ALL_HOST_FUNCTIONS, ..._ABI_SPECIFIC, FOR_ALL_WASI_FUNCTIONS).

export const ENVOY_PROXY_FUNCTIONS: ReadonlySet<string> = new Set([
  'proxy_log',
  'proxy_get_log_level',
  'proxy_get_current_time_nanoseconds',
  'proxy_set_tick_period_milliseconds',
  'proxy_get_property',
  'proxy_set_property',
  'proxy_get_buffer_bytes',
  'proxy_set_buffer_bytes',
  'proxy_get_buffer_status',
  'proxy_get_header_map_pairs',
  'proxy_set_header_map_pairs',
  'proxy_get_header_map_size',
  'proxy_get_header_map_value',
  'proxy_add_header_map_value',
  'proxy_replace_header_map_value',
  'proxy_remove_header_map_value',
  'proxy_send_local_response',
  'proxy_continue_stream',
  'proxy_close_stream',
  'proxy_continue_request',
  'proxy_continue_response',
  'proxy_clear_route_cache',
  'proxy_get_configuration',
  'proxy_http_call',
  'proxy_grpc_call',
  'proxy_grpc_stream',
  'proxy_grpc_send',
  'proxy_grpc_cancel',
  'proxy_grpc_close',
  'proxy_get_status',
  'proxy_get_shared_data',
  'proxy_set_shared_data',
  'proxy_register_shared_queue',
  'proxy_resolve_shared_queue',
  'proxy_dequeue_shared_queue',
  'proxy_enqueue_shared_queue',
  'proxy_define_metric',
  'proxy_increment_metric',
  'proxy_record_metric',
  'proxy_get_metric',
  'proxy_call_foreign_function',
  'proxy_set_effective_context',
  'proxy_done',
]);

export const ENVOY_WASI_FUNCTIONS: ReadonlySet<string> = new Set([
  'fd_write',
  'fd_read',
  'fd_seek',
  'fd_close',
  'fd_fdstat_get',
  'environ_get',
  'environ_sizes_get',
  'args_get',
  'args_sizes_get',
  'clock_time_get',
  'random_get',
  'proc_exit',
  'path_open',
  'fd_prestat_get',
  'fd_prestat_dir_name',
]);

export interface ImportProblem {
  module: string;
  name: string;
  kind: string;
}

/** Imports of a compiled module that Envoy would not link. */
export function unsupportedImports(module: WebAssembly.Module): ImportProblem[] {
  return WebAssembly.Module.imports(module)
    .filter(({ module: mod, name, kind }) => {
      if (kind !== 'function') return true;
      if (mod === 'env') return !ENVOY_PROXY_FUNCTIONS.has(name);
      if (mod === 'wasi_snapshot_preview1' || mod === 'wasi_unstable') return !ENVOY_WASI_FUNCTIONS.has(name);
      return true;
    })
    .map(({ module: mod, name, kind }) => ({ module: mod, name, kind }));
}
