export async function runDemo(opts: { once: boolean }): Promise<number> {
  void opts;
  return 1;
}
