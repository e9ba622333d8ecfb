// as-pect unit tests for pure AssemblyScript code (shared libraries, filter config and decision logic).
// Test modules must not call the proxy-wasm host: any env.proxy_* import traps with its name.
export default {
  entries: ['assembly/__tests__/**/*.spec.ts', 'filters/*/__tests__/**/*.spec.ts'],
  include: ['assembly/__tests__/**/*.include.ts'],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    const noHost = new Proxy(
      { memory },
      {
        get(target, name) {
          if (name in target) return target[name];
          return () => {
            throw new Error(`as-pect test called host function env.${String(name)}`);
          };
        },
      },
    );
    return instantiate(binary, createImports({ env: noHost }));
  },
  outputBinary: false,
};
